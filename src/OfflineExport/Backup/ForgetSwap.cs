namespace OfflineExport.Backup;

/// <summary>One kept point's merged file, written as <see cref="Temporary"/> and put in place as <see cref="File"/>, and its new record.</summary>
public sealed record ForgetSwap
{
    /// <summary>The disk's name.</summary>
    public required string Disk { get; init; }

    /// <summary>The kept point's number.</summary>
    public required int Point { get; init; }

    /// <summary>The point's file (a plain name in the folder).</summary>
    public required string File { get; init; }

    /// <summary>The merged copy's temporary name (a plain name in the folder).</summary>
    public required string Temporary { get; init; }

    /// <summary>The merged file's SHA-256.</summary>
    public required string FileSha256 { get; init; }

    /// <summary>The merged file's size.</summary>
    public required long FileSize { get; init; }

    /// <summary>The point's new backing point, or null: it is now a full point.</summary>
    public int? BackingPoint { get; init; }

    /// <summary>The point's level after the merge.</summary>
    public required PointLevel Level { get; init; }

    /// <summary>The checkpoints whose changes it now holds.</summary>
    public IReadOnlyList<string> CheckpointsUsed { get; init; } = [];
}
