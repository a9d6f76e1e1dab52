using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;
using OfflineExport.IO;

namespace OfflineExport.Cli.Configuration;

/// <summary>
/// Builds the configuration from its layers, later ones winning: built-in defaults,
/// /etc/offline-export/config.json, $XDG_CONFIG_HOME/offline-export/config.json (or ~/.config/…),
/// the file given with --config, OFFLINE_EXPORT_* environment variables ("__" separates sections),
/// then --set KEY=VALUE on the command line.
/// </summary>
public static class ConfigurationLayers
{
    /// <summary>The system-wide configuration file.</summary>
    public const string SystemFile = "/etc/offline-export/config.json";

    /// <summary>Prefix of the environment variables read.</summary>
    public const string EnvironmentPrefix = "OFFLINE_EXPORT_";

    /// <summary>The per-user configuration file for the current environment.</summary>
    public static string UserFile
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            var root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config")
                : xdg;
            return Path.Combine(root, "offline-export", "config.json");
        }
    }

    /// <summary>Builds the layered configuration.</summary>
    /// <param name="configFile">--config FILE, or null.</param>
    /// <param name="settings">--set KEY=VALUE pairs.</param>
    public static IConfigurationRoot Build(string? configFile, IReadOnlyList<string> settings)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in settings)
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ConfigurationException($"--set expects KEY=VALUE (e.g. --set Export:RequestSize=1M), got '{setting}'");
            }

            overrides[setting[..equals].Trim()] = setting[(equals + 1)..].Trim();
        }

        if (configFile is not null && !File.Exists(configFile))
        {
            throw new ConfigurationException($"configuration file {Path.GetFullPath(configFile)} (from --config) does not exist");
        }

        // Reading a named pipe or a device would wait for ever (and a blocked read ignores Ctrl-C); ConfigurationFiles refuses one swapped in after this.
        foreach (var file in new[] { SystemFile, UserFile, configFile }.OfType<string>())
        {
            if (FileIdentity.Of(file) is { Kind: not FileKind.Regular } entry)
            {
                throw new ConfigurationException($"configuration file {Path.GetFullPath(file)} is {FileKindText.Describe(entry.Kind)}, not a regular file; nothing was read from it");
            }
        }

        var builder = new ConfigurationBuilder().AddInMemoryCollection(Settings.Defaults);
        AddFile(builder, SystemFile, optional: true);
        AddFile(builder, Path.GetFullPath(UserFile), optional: true);
        if (configFile is not null)
        {
            AddFile(builder, Path.GetFullPath(configFile), optional: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix).AddInMemoryCollection(overrides);
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"cannot read configuration: {ex.Message}", ex);
        }
    }

    /// <summary>A JSON layer read through <see cref="ConfigurationFiles"/>; a file that is not valid JSON is named with what is wrong.</summary>
    private static void AddFile(IConfigurationBuilder builder, string path, bool optional) =>
        builder.AddJsonFile(source =>
        {
            source.FileProvider = ConfigurationFiles.Instance;
            source.Path = path;
            source.Optional = optional;
            source.ReloadOnChange = false;
            source.OnLoadException = failure => throw new ConfigurationException(
                $"cannot read configuration file {path}: {failure.Exception.InnerException?.Message ?? failure.Exception.Message}", failure.Exception);
        });

    /// <summary>Where the effective value of <paramref name="key"/> comes from, in words.</summary>
    public static string SourceOf(IConfigurationRoot configuration, string key)
    {
        var providers = configuration.Providers.ToList();
        for (var i = providers.Count - 1; i >= 0; i--)
        {
            if (providers[i].TryGet(key, out _))
            {
                return providers[i] switch
                {
                    JsonConfigurationProvider json => $"file {json.Source.FileProvider?.GetFileInfo(json.Source.Path ?? string.Empty).PhysicalPath ?? json.Source.Path}",
                    EnvironmentVariablesConfigurationProvider => $"environment variable {EnvironmentPrefix}{key.Replace(":", "__", StringComparison.Ordinal)}",
                    MemoryConfigurationProvider when i == providers.Count - 1 => "--set on the command line",
                    _ => "built-in default",
                };
            }
        }

        return "nowhere";
    }
}
