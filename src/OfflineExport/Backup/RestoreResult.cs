namespace OfflineExport.Backup;

/// <summary>What a restore did.</summary>
/// <param name="Disk">The disk restored.</param>
/// <param name="Point">The point restored.</param>
/// <param name="Output">The standalone image written.</param>
/// <param name="ChainLength">How many point files the point's chain has.</param>
/// <param name="Duration">How long it took.</param>
public sealed record RestoreResult(string Disk, PointRecord Point, string Output, int ChainLength, TimeSpan Duration)
{
    /// <summary>How many files of the chain matched the SHA-256 recorded when they were written (older points have none).</summary>
    public int FilesChecksummed { get; init; }

    /// <summary>What the run noticed on the way (a killed run's leftovers it removed).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
