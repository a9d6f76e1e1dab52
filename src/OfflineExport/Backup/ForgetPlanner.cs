namespace OfflineExport.Backup;

/// <summary>
/// Pure: which points of a disk a policy forgets, and which kept points must take in forgotten points' data
/// so that every kept point restores exactly as before (ARCHITECTURE.md, "Retention").
/// </summary>
public static class ForgetPlanner
{
    /// <summary>Plans one disk. The newest point is always kept (a backup builds on it).</summary>
    public static DiskForgetPlan Plan(DiskRecord disk, RetentionPolicy policy, TimeZoneInfo zone)
    {
        var kept = policy.Keep(disk.Points.Select(p => (p.Number, p.EndTime)), zone).ToDictionary();
        if (disk.Latest is { } latest && !kept.ContainsKey(latest.Number))
        {
            kept[latest.Number] = ["newest"];
        }

        var removed = disk.Points.Where(p => !kept.ContainsKey(p.Number)).ToList();
        var merges = new List<PointMerge>();
        foreach (var point in disk.Points.Where(p => kept.ContainsKey(p.Number)))
        {
            var below = PointFiles.ChainOf(disk, point).Skip(1).ToList();
            var absorbed = below.TakeWhile(p => !kept.ContainsKey(p.Number)).ToList();
            if (absorbed.Count > 0)
            {
                merges.Add(new PointMerge(point, below.Skip(absorbed.Count).FirstOrDefault(), absorbed));
            }
        }

        return new DiskForgetPlan(disk, kept, removed, merges);
    }

    /// <summary>
    /// This folder's checkpoints a forget may remove from the disk's layers: those the forgotten points started,
    /// never the current one (the next incremental needs it), the current chain's first (a differential needs
    /// it), a kept point's, libvirt's (a seed's) or another folder's.
    /// </summary>
    public static IReadOnlySet<string> CheckpointsToRemove(DiskForgetPlan plan, DiskRecord after, FolderRecord? folder)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal);
        if (after.CurrentCheckpoint is { } current)
        {
            needed.Add(current);
        }

        needed.UnionWith(after.Points.Select(p => p.CheckpointCreated).OfType<string>());
        return plan.Removed
            .Where(p => p.ImportedFrom is null)
            .Select(p => p.CheckpointCreated)
            .OfType<string>()
            .Where(name => CheckpointNames.BelongsTo(name, folder) && !needed.Contains(name))
            .ToHashSet(StringComparer.Ordinal);
    }
}
