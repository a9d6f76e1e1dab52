using System.CommandLine;

namespace OfflineExport.Cli;

/// <summary>Options every command accepts.</summary>
public static class CommonOptions
{
    /// <summary>--verbose: log qemu commands and QMP traffic to stderr; stack traces on errors.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log qemu commands, QMP traffic and daemon output to stderr; show stack traces on errors",
        Recursive = true,
    };

    /// <summary>--quiet: no progress output.</summary>
    public static Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "No progress output",
        Recursive = true,
    };
}
