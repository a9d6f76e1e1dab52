using OfflineExport.Export;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <content>--keep-checkpoints: removing this folder's older checkpoints from the source images.</content>
public sealed partial class BackupRunner
{
    /// <summary>
    /// Keeps the newest <paramref name="keep"/> checkpoints this folder created on each disk, plus the one
    /// the current chain's full point started (a differential needs it); removes the others from the top
    /// image. Bitmaps this folder did not create (libvirt's, another backup folder's, those a copied folder
    /// inherited from its original) are never touched.
    /// Failures here are warnings: the points are already safe.
    /// </summary>
    private async Task<IReadOnlyList<string>> PruneCheckpointsAsync(QemuImg qemuImg, BackupManifest manifest, IReadOnlyList<DiskPlan> plans, int keep, List<string> warnings, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        foreach (var plan in plans.Where(p => p.NextCheckpoint is not null))
        {
            var record = manifest.Disk(plan.Disk.Name)!;
            // A copied folder's inherited checkpoints are the original's (it still builds on them).
            var ours = record.Points.Select(p => p.CheckpointCreated).OfType<string>().Where(n => CheckpointNames.BelongsTo(n, manifest.Folder)).Distinct().ToList();
            var kept = ours.TakeLast(keep).ToHashSet(StringComparer.Ordinal);
            if (record.CurrentChain.FirstOrDefault()?.CheckpointCreated is { } chainStart)
            {
                kept.Add(chainStart);
            }

            try
            {
                var chain = await qemuImg.GetBackingChainAsync(plan.Disk.Image, plan.Disk.Chain[0].Format, cancellationToken).ConfigureAwait(false);
                var present = chain[0].Bitmaps.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var name in ours.Where(n => !kept.Contains(n) && present.Contains(n)))
                {
                    await qemuImg.RemoveBitmapAsync(plan.Disk.Image, chain[0].Format, name, cancellationToken).ConfigureAwait(false);
                    removed.Add($"{plan.Disk.Name}: {name}");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                warnings.Add($"{plan.Disk.Name}: could not remove old checkpoints: {ex.Message}");
            }
        }

        return removed;
    }
}
