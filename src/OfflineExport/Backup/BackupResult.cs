namespace OfflineExport.Backup;

/// <summary>What a backup run did.</summary>
/// <param name="Target">The backup folder.</param>
/// <param name="Disks">Per disk, in the order given.</param>
/// <param name="RemovedCheckpoints">Checkpoints removed by --keep-checkpoints, as "disk: name".</param>
/// <param name="Warnings">Things that went wrong after the points were safely in place, and formats kept against what the file now looks like.</param>
/// <param name="Duration">How long the run took.</param>
public sealed record BackupResult(string Target, IReadOnlyList<BackupDiskResult> Disks, IReadOnlyList<string> RemovedCheckpoints, IReadOnlyList<string> Warnings, TimeSpan Duration)
{
    /// <summary>Things the user should know that are not problems (a format qemu detected because nobody stated it).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The domain's cdroms and floppies, not backed up ("skipping sda: a cdrom"): notes on a terminal, warnings in JSON.</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>The domain's data disks that could not be backed up ("skipping vdb: a block disk, not a file"): warnings, even with --quiet.</summary>
    public IReadOnlyList<string> SkippedData { get; init; } = [];
}
