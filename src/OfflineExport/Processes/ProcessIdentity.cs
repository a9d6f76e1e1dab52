using System.Globalization;

namespace OfflineExport.Processes;

/// <summary>
/// A process as the kernel knows it: its id and its start time in clock ticks since boot
/// (/proc/PID/stat field 22). The pair names one process for good: a recycled pid has another start time.
/// </summary>
/// <param name="Pid">The process id.</param>
/// <param name="StartTicks">When it started, in clock ticks since boot.</param>
public sealed record ProcessIdentity(int Pid, long StartTicks)
{
    /// <summary>This process.</summary>
    public static ProcessIdentity Current { get; } = Of(Environment.ProcessId) ?? new ProcessIdentity(Environment.ProcessId, 0);

    /// <summary>True while the process this names still runs (same pid, same start time).</summary>
    public bool IsRunning => Of(Pid) is { } now && now.StartTicks == StartTicks;

    /// <summary>The identity of <paramref name="pid"/>, or null when no such process runs.</summary>
    public static ProcessIdentity? Of(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the name (which is in parentheses and may hold spaces): field 3 is index 0.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return new ProcessIdentity(pid, long.Parse(fields[19], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
