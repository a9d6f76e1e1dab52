using System.Text;
using OfflineExport.Export;

namespace OfflineExport.Backup;

/// <summary>
/// What a loaded manifest must satisfy before anything trusts it: no missing or null fields (JSON
/// allows them, the code does not), and every point file a plain name inside the folder, so a
/// hand-edited or hostile manifest can never point the tool at a file outside the folder.
/// </summary>
public static class ManifestValidation
{
    private const int MaximumFileName = 255; // NAME_MAX, in bytes

    /// <summary>Refuses a manifest that breaks a rule, naming the first broken one.</summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem.</exception>
    public static void Check(BackupManifest manifest, string path)
    {
        if (manifest.Disks is null)
        {
            throw Bad(path, "'disks' is missing or null");
        }

        if (manifest.Folder is { } folder && (string.IsNullOrEmpty(folder.Id) || folder.Id.Length < CheckpointNames.TagLength || folder.CopiedFrom is null || folder.CopiedFrom.Any(c => c is null)))
        {
            throw Bad(path, "its folder record lacks its id or its list of copied-from folders");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var files = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < manifest.Disks.Count; i++)
        {
            var disk = manifest.Disks[i] ?? throw Bad(path, $"disk {i + 1} is null");
            if (string.IsNullOrEmpty(disk.Name) || disk.Source is null || disk.Points is null)
            {
                throw Bad(path, $"disk {i + 1} ({disk.Name ?? "no name"}) lacks its name, source or points");
            }

            if (!names.Add(disk.Name))
            {
                throw Bad(path, $"disk {i + 1} is named {disk.Name}, as an earlier disk is");
            }

            // A disk's name and its checkpoints' names become file names (restore --domain-out, the kept domain XML).
            if (!IsPlainName(disk.Name) || (disk.CurrentCheckpoint is { } current && !IsPlainName(current)))
            {
                throw Bad(path, $"disk {i + 1} has a name or a current checkpoint that is not a plain name; nothing was read");
            }

            // Its format is what the disk is opened as when nobody states one; its size what forget and restore write.
            if (disk.Format is not (null or "raw" or "qcow2") || disk.VirtualSize < 0)
            {
                throw Bad(path, $"disk {disk.Name} is recorded with format '{disk.Format}' and size {disk.VirtualSize}; only raw and qcow2 disks of a size are backed up");
            }

            var numbers = new HashSet<int>();
            foreach (var point in disk.Points)
            {
                if (point is null || point.File is null || point.Source is null || point.CheckpointsUsed is null || point.CheckpointsUsed.Any(c => c is null))
                {
                    throw Bad(path, $"a point of {disk.Name} {(point is null ? "is null" : $"(number {point.Number}) lacks a field")}");
                }

                // Points are listed in the order they were made (the last is the latest), each built on an earlier one.
                if (point.Number < 0 || (numbers.Count > 0 && point.Number <= numbers.Max()) || point.VirtualSize < 0)
                {
                    throw Bad(path, $"point {point.Number} of {disk.Name} does not follow the points before it (numbers grow from 0) or has a negative size");
                }

                if (point.BackingPoint is { } backing && !numbers.Contains(backing))
                {
                    throw Bad(path, $"point {point.Number} of {disk.Name} is built on point {backing}, which is not an earlier point of that disk");
                }

                numbers.Add(point.Number);

                if ((point.CheckpointCreated is { } created && !IsPlainName(created)) || point.CheckpointsUsed.Any(c => !IsPlainName(c)))
                {
                    throw Bad(path, $"point {point.Number} of {disk.Name} names a checkpoint that is not a plain name; nothing was read");
                }

                if (!IsPlainName(point.File))
                {
                    throw Bad(path, $"point {point.Number} of {disk.Name} names its file '{point.File}', which is not a plain file name inside the folder; nothing was read");
                }

                if (Encoding.UTF8.GetByteCount(point.File) > MaximumFileName)
                {
                    throw Bad(path, $"point {point.Number} of {disk.Name} names a file of {Encoding.UTF8.GetByteCount(point.File)} bytes, longer than any file name can be ({MaximumFileName}); nothing was read");
                }

                // One file, one point: forget removes a forgotten point's file, which must never be a kept one's.
                if (!files.Add(point.File))
                {
                    throw Bad(path, $"point {point.Number} of {disk.Name} names the file '{point.File}', which another point names too");
                }
            }
        }
    }

    /// <summary>True for a name that stays in its folder: no separator, not "." or "..", no NUL.</summary>
    public static bool IsPlainName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !name.Contains('/', StringComparison.Ordinal) && !name.Contains('\0', StringComparison.Ordinal);

    private static OfflineExportException Bad(string path, string what) =>
        new(ErrorKind.BackupFolderProblem, $"{path} is not a valid manifest: {what}");
}
