using System.Globalization;
using Microsoft.Extensions.Configuration;
using OfflineExport.Export;
using OfflineExport.Qemu;

namespace OfflineExport.Cli.Configuration;

/// <summary>The configuration keys, their defaults, and their validation into <see cref="ExportOptions"/>.</summary>
public static class Settings
{
    /// <summary>Path or name of qemu-img.</summary>
    public const string QemuImg = "Tools:QemuImg";

    /// <summary>Path or name of qemu-storage-daemon.</summary>
    public const string StorageDaemon = "Tools:StorageDaemon";

    /// <summary>Largest READ/WRITE request (bytes; K and M suffixes allowed).</summary>
    public const string RequestSize = "Export:RequestSize";

    /// <summary>Requests in flight at once.</summary>
    public const string MaxInFlight = "Export:MaxInFlight";

    /// <summary>How long the daemon may take to start.</summary>
    public const string StartTimeoutSeconds = "Daemon:StartTimeoutSeconds";

    /// <summary>How long any qemu operation may go without progress before the run fails (exit 8).</summary>
    public const string ProgressTimeoutSeconds = "Qemu:ProgressTimeoutSeconds";

    /// <summary>Which image files get O_DIRECT: output (default), all, none.</summary>
    public const string CacheDirect = "Daemon:CacheDirect";

    /// <summary>Parent folder of the private temporary folders (system temp when empty).</summary>
    public const string WorkDirectory = "WorkDirectory";

    /// <summary>The libvirt URI for backup --domain (--connect wins).</summary>
    public const string LibvirtUri = "Libvirt:Uri";

    private static readonly ExportOptions Builtin = new();

    /// <summary>The built-in defaults (the lowest layer).</summary>
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
    {
        [QemuImg] = Builtin.Tools.QemuImg,
        [StorageDaemon] = Builtin.Tools.StorageDaemon,
        [RequestSize] = Builtin.RequestSize.ToString(CultureInfo.InvariantCulture),
        [MaxInFlight] = Builtin.MaxInFlight.ToString(CultureInfo.InvariantCulture),
        [StartTimeoutSeconds] = Builtin.DaemonStartTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        [ProgressTimeoutSeconds] = Builtin.ProgressTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        [CacheDirect] = Builtin.CacheDirect.ToString().ToLowerInvariant(),
        [WorkDirectory] = string.Empty,
        [LibvirtUri] = Builtin.LibvirtUri,
    };

    /// <summary>Validates every key and builds the options; the first bad value fails with its key and source.</summary>
    public static ExportOptions ToExportOptions(IConfigurationRoot configuration, Action<string>? log)
    {
        RejectUnknownKeys(configuration);
        var workDirectory = Text(configuration, WorkDirectory, allowEmpty: true);
        if (workDirectory.Length > 0 && !Directory.Exists(workDirectory))
        {
            throw Invalid(configuration, WorkDirectory, "an existing folder");
        }

        var options = new ExportOptions
        {
            Tools = new QemuTools(Text(configuration, QemuImg, allowEmpty: false), Text(configuration, StorageDaemon, allowEmpty: false)),
            RequestSize = (int)Size(configuration, RequestSize, 4096, 32 << 20),
            MaxInFlight = (int)Whole(configuration, MaxInFlight, 1, 64),
            DaemonStartTimeout = TimeSpan.FromSeconds(Seconds(configuration, StartTimeoutSeconds, 1, 600)),
            ProgressTimeout = TimeSpan.FromSeconds(Seconds(configuration, ProgressTimeoutSeconds, 1, 3600)),
            CacheDirect = OneOf(configuration, CacheDirect, "output", "all", "none", "true", "false") switch
            {
                "all" or "true" => CacheDirectScope.All,
                "none" or "false" => CacheDirectScope.None,
                _ => CacheDirectScope.Output,
            },
            WorkDirectory = workDirectory.Length == 0 ? null : Path.GetFullPath(workDirectory),
            LibvirtUri = Text(configuration, LibvirtUri, allowEmpty: false),
            Log = log,
        };
        return options;
    }

    private static void RejectUnknownKeys(IConfigurationRoot configuration)
    {
        foreach (var pair in configuration.AsEnumerable())
        {
            if (pair.Value is null)
            {
                continue; // a section, not a value
            }

            if (!Defaults.Keys.Any(k => string.Equals(k, pair.Key, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ConfigurationException(
                    $"unknown configuration key '{pair.Key}' (from {ConfigurationLayers.SourceOf(configuration, pair.Key)}); known keys: {string.Join(", ", Defaults.Keys)}");
            }
        }
    }

    private static string Text(IConfigurationRoot configuration, string key, bool allowEmpty)
    {
        var value = configuration[key]?.Trim() ?? string.Empty;
        return value.Length == 0 && !allowEmpty ? throw Invalid(configuration, key, "a program name or path") : value;
    }

    private static bool Flag(IConfigurationRoot configuration, string key) =>
        bool.TryParse(configuration[key], out var value) ? value : throw Invalid(configuration, key, "true or false");

    private static string OneOf(IConfigurationRoot configuration, string key, params string[] allowed)
    {
        // Case-insensitive: a JSON true arrives as "True".
        var value = configuration[key]?.Trim() ?? string.Empty;
        return allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
            ?? throw Invalid(configuration, key, "one of " + string.Join(", ", allowed));
    }

    private static long Whole(IConfigurationRoot configuration, string key, long minimum, long maximum)
    {
        var text = configuration[key];
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw Invalid(configuration, key, $"a whole number from {minimum} to {maximum}");
    }

    private static long Size(IConfigurationRoot configuration, string key, long minimum, long maximum)
    {
        var text = configuration[key]?.Trim() ?? string.Empty;
        long multiplier = 1;
        if (text.EndsWith('K') || text.EndsWith('k'))
        {
            multiplier = 1024;
        }
        else if (text.EndsWith('M') || text.EndsWith('m'))
        {
            multiplier = 1024 * 1024;
        }

        var digits = multiplier == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value * multiplier >= minimum && value * multiplier <= maximum && value * multiplier % 4096 == 0
            ? value * multiplier
            : throw Invalid(configuration, key, $"a size from {minimum / 1024}K to {maximum >> 20}M, a multiple of 4K (e.g. 256K, 1M)");
    }

    private static double Seconds(IConfigurationRoot configuration, string key, double minimum, double maximum)
    {
        var text = configuration[key];
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw Invalid(configuration, key, $"a number of seconds from {minimum} to {maximum}");
    }

    private static ConfigurationException Invalid(IConfigurationRoot configuration, string key, string expected) =>
        new($"invalid value '{configuration[key]}' for {key} (from {ConfigurationLayers.SourceOf(configuration, key)}): expected {expected}");
}
