using System.Diagnostics;
using System.Text.RegularExpressions;
using OfflineExport.IO;
using OfflineExport.Processes;

namespace OfflineExport.Export;

/// <summary>
/// Finds what killed runs left in the work folders' parent and removes it: a private folder whose
/// <see cref="WorkFolderRecord"/> names a run that no longer runs, that run's partial output, and any
/// qemu process still serving from that folder. Only folders of this user with mode 0700 and a record
/// are touched; anything else there is not ours to judge.
/// </summary>
public static partial class StaleWorkFolders
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Cleans up <paramref name="parent"/>; <paramref name="own"/> is this run's fresh folder (never touched; it names our user). Returns one note per stale folder.</summary>
    public static IReadOnlyList<string> CleanUp(string parent, string own)
    {
        var notes = new List<string>();
        try
        {
            var us = FileIdentity.OfLink(own)?.OwnerId;
            if (us is null)
            {
                return notes;
            }

            foreach (var folder in Directory.EnumerateDirectories(parent, PrivateDirectory.Prefix + "*"))
            {
                if (!string.Equals(Path.GetFullPath(folder), Path.GetFullPath(own), StringComparison.Ordinal) && IsStale(folder, us.Value) is { } record)
                {
                    notes.Add(Remove(folder, record, us.Value));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Cleaning up after others must never fail this run.
        }

        return notes;
    }

    /// <summary>The record of a folder that is ours and whose run is gone; null otherwise.</summary>
    private static WorkFolderRecord? IsStale(string folder, uint us)
    {
        var identity = FileIdentity.OfLink(folder);
        if (identity is not { Kind: FileKind.Directory } || identity.OwnerId != us || File.GetUnixFileMode(folder) != Private)
        {
            return null;
        }

        var record = WorkFolderRecord.TryLoad(folder);
        return record is null || record.Owner.IsRunning || record.Owner == ProcessIdentity.Current ? null : record;
    }

    private static string Remove(string folder, WorkFolderRecord record, uint us)
    {
        var removed = new List<string> { $"its work folder {folder}" };
        foreach (var pid in ProcessesServingFrom(folder, us))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                removed.Add($"its daemon (pid {pid})");
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile.
            }
        }

        if (record.Partial is { } partial && IsOurPartial(partial, us))
        {
            OutputFile.TryDelete(partial);
            removed.Add($"its partial output {partial}");
        }

        RuntimeEndpoints.RemoveStale(); // the killed run's debugger pipes and diagnostic socket among them
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            removed[0] = $"(could not remove its work folder {folder}: {ex.Message})";
        }

        return $"cleaned up after a killed offline-export run (pid {record.Owner.Pid}): removed {string.Join(", ", removed)}";
    }

    /// <summary>Only a regular file of ours named like <see cref="OutputFile.PartialName"/> makes.</summary>
    private static bool IsOurPartial(string path, uint us) =>
        Path.IsPathRooted(path) && PartialPattern().IsMatch(Path.GetFileName(path))
        && FileIdentity.OfLink(path) is { Kind: FileKind.Regular } file && file.OwnerId == us;

    /// <summary>Processes of this user whose command line names a path inside <paramref name="folder"/> (a daemon listens on its sockets).</summary>
    private static List<int> ProcessesServingFrom(string folder, uint us)
    {
        var found = new List<int>();
        var inside = Path.GetFullPath(folder) + "/";
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (FileIdentity.OfLink(entry)?.OwnerId == us && File.ReadAllText(Path.Combine(entry, "cmdline")).Contains(inside, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Ended while we looked.
            }
        }

        return found;
    }

    [GeneratedRegex(@"^.+\.[0-9a-f]{8}\.partial$")]
    private static partial Regex PartialPattern();
}
