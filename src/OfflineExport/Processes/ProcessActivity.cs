using System.Globalization;

namespace OfflineExport.Processes;

/// <summary>
/// How much a process has done so far, from /proc: bytes and system calls of I/O plus CPU ticks. A
/// process that is working moves this number; one that is stopped (SIGSTOP), blocked opening a FIFO
/// or wedged on a dead device does not.
/// </summary>
public static class ProcessActivity
{
    /// <summary>The activity count of <paramref name="pid"/>, or null when it is gone or cannot be read.</summary>
    public static long? Sample(int pid)
    {
        try
        {
            long total = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
            {
                // rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && long.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    total += value;
                }
            }

            // utime and stime (fields 14 and 15); the name in parentheses may contain spaces.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return total + long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>
    /// Completes with true once <paramref name="pid"/> has shown no activity for <paramref name="timeout"/>;
    /// with false when <paramref name="stop"/> is cancelled or the process is gone.
    /// </summary>
    public static async Task<bool> WaitForStallAsync(int pid, TimeSpan timeout, CancellationToken stop)
    {
        var interval = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
        var last = Sample(pid);
        var lastChange = DateTime.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            var now = Sample(pid);
            if (now is null)
            {
                return false;
            }

            if (now != last)
            {
                last = now;
                lastChange = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - lastChange >= timeout)
            {
                return true;
            }
        }

        return false;
    }
}
