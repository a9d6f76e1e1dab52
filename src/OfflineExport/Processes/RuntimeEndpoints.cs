using System.Globalization;
using System.Text.RegularExpressions;
using OfflineExport.IO;

namespace OfflineExport.Processes;

/// <summary>
/// The .NET runtime's debugger pipes and diagnostic socket in the temp folder
/// (<c>clr-debug-pipe-PID-TICKS-in|out</c>, <c>dotnet-diagnostic-PID-TICKS-socket</c>): the runtime removes
/// its own at exit, a SIGKILL leaves them. Their names carry the process's pid and start ticks, so those of
/// a process that no longer runs are recognised without any record of it, and the next run removes them.
/// </summary>
public static partial class RuntimeEndpoints
{
    /// <summary>Removes the endpoints of dead processes of this user; returns how many. Never fails.</summary>
    public static int RemoveStale()
    {
        var removed = 0;
        try
        {
            if (FileIdentity.Of("/proc/self")?.OwnerId is not { } us)
            {
                return 0;
            }

            foreach (var path in Directory.EnumerateFileSystemEntries(Path.GetTempPath()))
            {
                if (Name().Match(Path.GetFileName(path)) is not { Success: true } match)
                {
                    continue;
                }

                var owner = new ProcessIdentity(int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups["ticks"].Value, CultureInfo.InvariantCulture));
                if (!owner.IsRunning && FileIdentity.OfLink(path) is { Kind: FileKind.Fifo or FileKind.Socket } file && file.OwnerId == us)
                {
                    File.Delete(path);
                    removed++;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OverflowException)
        {
            // Tidying after others must never fail this run.
        }

        return removed;
    }

    [GeneratedRegex(@"\A(?:clr-debug-pipe-(?<pid>[0-9]{1,9})-(?<ticks>[0-9]{1,18})-(?:in|out)|dotnet-diagnostic-(?<pid>[0-9]{1,9})-(?<ticks>[0-9]{1,18})-socket)\z")]
    private static partial Regex Name();
}
