namespace OfflineExport.Qemu;

/// <summary>How the death of qemu-storage-daemon is told: its exit status in words, then its own last lines.</summary>
public static class DaemonDeath
{
    /// <summary>The error for a daemon that exited with <paramref name="exitCode"/> (128 + signal when killed) after writing <paramref name="outputTail"/>.</summary>
    public static OfflineExportException Error(int exitCode, string outputTail, Exception? cause = null) =>
        new(ErrorKind.QemuFailure, Describe(exitCode, outputTail), cause);

    /// <summary>One line: "qemu-storage-daemon was killed by signal 9 (SIGKILL) (exit code 137): …".</summary>
    public static string Describe(int exitCode, string outputTail)
    {
        var status = exitCode > 128 && exitCode < 160
            ? $"was killed by signal {exitCode - 128}{SignalName(exitCode - 128)} (exit code {exitCode})"
            : $"exited with code {exitCode}";
        return WithTail($"qemu-storage-daemon {status}", outputTail);
    }

    /// <summary>"what: the daemon's last lines", or just "what" when it wrote nothing.</summary>
    public static string WithTail(string what, string outputTail) => outputTail.Length == 0 ? what : $"{what}: {outputTail}";

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
