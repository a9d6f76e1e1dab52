namespace OfflineExport.Qemu;

/// <summary>qemu-storage-daemon exited when it should not have; carries its exit status and last words.</summary>
public sealed class DaemonExitedException : Exception
{
    /// <summary>Creates the exception from the daemon's exit code and the tail of its error output.</summary>
    public DaemonExitedException(int exitCode, string outputTail, Exception? inner = null)
        : base(BuildMessage(exitCode, outputTail), inner)
    {
        ExitCode = exitCode;
        OutputTail = outputTail;
    }

    /// <summary>The daemon's exit code (128 + signal when killed).</summary>
    public int ExitCode { get; }

    /// <summary>The last lines the daemon printed.</summary>
    public string OutputTail { get; }

    private static string BuildMessage(int exitCode, string tail)
    {
        var status = exitCode > 128 && exitCode < 160
            ? $"was killed by signal {exitCode - 128}{SignalName(exitCode - 128)} (exit code {exitCode})"
            : $"exited with code {exitCode}";
        return tail.Length == 0
            ? $"qemu-storage-daemon {status}"
            : $"qemu-storage-daemon {status}: {tail}";
    }

    private static string SignalName(int signal) => signal switch
    {
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => string.Empty,
    };
}
