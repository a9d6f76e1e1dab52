using System.Globalization;
using System.Text.RegularExpressions;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// Undoes what a killed backup run left, as its <see cref="BackupRunRecord"/> lists it: checkpoints it
/// added that no point of the manifest records, and its pending or unrecorded point files (with their
/// partial files). Runs under the folder lock, before the disks are read, so the new run plans without them.
/// </summary>
public static partial class KilledRunRecovery
{
    /// <summary>Cleans up; returns the note to print (none when there was nothing to do). Failures become warnings and stay in the record for the next run.</summary>
    public static async Task<IReadOnlyList<string>> RecoverAsync(QemuImg qemuImg, string folder, BackupManifest manifest, List<string> warnings, CancellationToken cancellationToken)
    {
        var record = BackupRunRecord.Load(folder);
        if (record is null)
        {
            return [];
        }

        var removed = new List<string>();
        var recordedFiles = manifest.Disks.SelectMany(d => d.Points).Select(p => p.File).ToHashSet(StringComparer.Ordinal);
        // Only names a run gives its points: a record edited to name manifest.json, a lock or a domain XML removes nothing.
        foreach (var file in record.Files.Distinct(StringComparer.Ordinal).Where(f => ManifestValidation.IsPlainName(f) && PointFileName().IsMatch(f) && !recordedFiles.Contains(f)))
        {
            removed.AddRange(RemoveFileAndPartials(folder, file));
        }

        var remaining = new List<RunCheckpoint>();
        foreach (var checkpoint in record.Checkpoints)
        {
            var recorded = manifest.Disk(checkpoint.Disk)?.Points.Any(p => p.CheckpointCreated == checkpoint.Name) == true;
            // In a copied folder, a record copied along lists the original's checkpoints: those are not ours.
            if (recorded || !CheckpointNames.BelongsTo(checkpoint.Name, manifest.Folder) || !File.Exists(checkpoint.Image))
            {
                continue;
            }

            try
            {
                if (await qemuImg.RemoveBitmapIfPresentAsync(checkpoint.Image, checkpoint.Format, checkpoint.Name, cancellationToken).ConfigureAwait(false))
                {
                    removed.Add($"checkpoint {checkpoint.Name} of {checkpoint.Disk}");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                remaining.Add(checkpoint);
                warnings.Add($"{checkpoint.Disk}: could not remove checkpoint {checkpoint.Name}, which a killed run left in {checkpoint.Image} ({ex.Message}); the next run tries again");
            }
        }

        if (remaining.Count == 0)
        {
            BackupRunRecord.Delete(folder);
        }
        else
        {
            (record with { Checkpoints = remaining, Files = [] }).Save(folder);
        }

        var started = record.StartTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return removed.Count == 0
            ? []
            : [$"cleaned up after a killed offline-export run (pid {record.Owner.Pid}, started {started}): removed {string.Join(", ", removed)}"];
    }

    private static IEnumerable<string> RemoveFileAndPartials(string folder, string file)
    {
        var names = new List<string>();
        var path = Path.Combine(folder, file);
        if (FileIdentity.OfLink(path) is { Kind: FileKind.Regular })
        {
            File.Delete(path);
            names.Add(file);
        }

        // The export under way wrote FILE.<8 hex>.partial before renaming it to FILE.
        foreach (var partial in Directory.EnumerateFiles(folder, file + ".????????.partial"))
        {
            if (FileIdentity.OfLink(partial) is { Kind: FileKind.Regular })
            {
                File.Delete(partial);
                names.Add(Path.GetFileName(partial));
            }
        }

        return names;
    }

    /// <summary>A point's file (<c>DISK.N.LEVEL.qcow2</c>, as <see cref="BackupPlanner"/> names it) or its <c>.pending</c> name.</summary>
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]*\.[0-9]+\.(full|inc|diff)\.qcow2(\.pending)?\z")]
    private static partial Regex PointFileName();
}
