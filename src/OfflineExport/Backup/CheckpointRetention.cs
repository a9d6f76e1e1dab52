namespace OfflineExport.Backup;

/// <summary>
/// Which of a disk's checkpoints <c>--keep-checkpoints N</c> removes: this folder's own, except the newest
/// <c>N</c> and the one the current chain's full point started (a differential needs it). Bitmaps this
/// folder did not create (libvirt's, another backup folder's, those a copied folder inherited from its
/// original) are never named.
/// </summary>
public static class CheckpointRetention
{
    /// <summary>The checkpoints to remove from the disk, oldest first, among those <paramref name="present"/> in its top image.</summary>
    public static IReadOnlyList<string> ToRemove(DiskRecord disk, FolderRecord? folder, int keep, IReadOnlySet<string> present)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var ours = disk.Points.Select(p => p.CheckpointCreated).OfType<string>().Where(n => CheckpointNames.BelongsTo(n, folder)).Distinct().ToList();
        var kept = ours.TakeLast(keep).ToHashSet(StringComparer.Ordinal);
        if (disk.CurrentChain.FirstOrDefault()?.CheckpointCreated is { } chainStart)
        {
            kept.Add(chainStart);
        }

        return ours.Where(n => !kept.Contains(n) && present.Contains(n)).ToList();
    }
}
