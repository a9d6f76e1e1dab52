using System.Runtime.InteropServices;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>Sends POSIX signals to processes and process groups.</summary>
public static class Signals
{
    /// <summary>SIGINT (Ctrl-C).</summary>
    public const int SIGINT = 2;

    /// <summary>SIGKILL.</summary>
    public const int SIGKILL = 9;

    /// <summary>SIGTERM.</summary>
    public const int SIGTERM = 15;

    /// <summary>SIGCONT.</summary>
    public const int SIGCONT = 18;

    /// <summary>SIGSTOP: the process stops answering without dying.</summary>
    public const int SIGSTOP = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/> (a negative pid is a process group).</summary>
    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
