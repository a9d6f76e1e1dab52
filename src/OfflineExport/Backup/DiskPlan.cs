namespace OfflineExport.Backup;

/// <summary>What a backup run will do for one disk.</summary>
/// <param name="Disk">The disk and its chain.</param>
/// <param name="Level">The kind of point to make.</param>
/// <param name="Number">The new point's number.</param>
/// <param name="File">The new point's file name inside the backup folder.</param>
/// <param name="Checkpoints">The checkpoints to export the changes of (empty for full).</param>
/// <param name="BackingPoint">The point the new one is an overlay on (null for full).</param>
/// <param name="NextCheckpoint">The checkpoint to start now for the next run (null for a raw image, which cannot hold one).</param>
/// <param name="Reason">Why this level was chosen (for the report).</param>
public sealed record DiskPlan(
    DiskSource Disk,
    PointLevel Level,
    int Number,
    string File,
    IReadOnlyList<string> Checkpoints,
    PointRecord? BackingPoint,
    string? NextCheckpoint,
    string Reason)
{
    /// <summary>Why this disk gets a full point although its chain could have gone on (a different disk, a copied folder), for the run's warnings; null otherwise.</summary>
    public string? Warning { get; init; }
}
