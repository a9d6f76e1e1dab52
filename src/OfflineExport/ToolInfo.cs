using System.Reflection;

namespace OfflineExport;

/// <summary>The tool's name and version, as recorded in manifests and printed by --version.</summary>
public static class ToolInfo
{
    /// <summary>"offline-export 0.1.0".</summary>
    public static string NameAndVersion { get; } = "offline-export " + Version;

    /// <summary>The informational version without the source revision suffix.</summary>
    public static string Version
    {
        get
        {
            var version = typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = version.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? version : version[..plus];
        }
    }
}
