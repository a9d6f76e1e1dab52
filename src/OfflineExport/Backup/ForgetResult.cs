namespace OfflineExport.Backup;

/// <summary>What a forget run did (or, dry, would do).</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="DryRun">True when nothing was changed.</param>
/// <param name="Disks">Per disk: kept, forgotten and merged points.</param>
/// <param name="BytesFreed">How much smaller the folder's point files are (0 for a dry run).</param>
/// <param name="RemovedCheckpoints">"disk: name" of each checkpoint removed from the disks' layers.</param>
/// <param name="Duration">How long it took.</param>
public sealed record ForgetResult(string Folder, bool DryRun, IReadOnlyList<DiskForgetPlan> Disks, long BytesFreed, IReadOnlyList<string> RemovedCheckpoints, TimeSpan Duration)
{
    /// <summary>What was cleaned up first (interrupted runs).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>What could not be done (checkpoints left in a disk in use); the points are safe regardless.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
