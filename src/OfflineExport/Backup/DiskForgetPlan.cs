namespace OfflineExport.Backup;

/// <summary>What <c>forget</c> does to one disk.</summary>
/// <param name="Disk">The disk as recorded before.</param>
/// <param name="Kept">The kept points' numbers, each with the rules that keep it.</param>
/// <param name="Removed">The forgotten points, oldest first.</param>
/// <param name="Merges">The kept points that take in forgotten points' data, oldest first.</param>
public sealed record DiskForgetPlan(DiskRecord Disk, IReadOnlyDictionary<int, IReadOnlyList<string>> Kept, IReadOnlyList<PointRecord> Removed, IReadOnlyList<PointMerge> Merges);
