namespace OfflineExport.Backup;

/// <summary>One restore point of one disk, as the manifest records it.</summary>
public sealed record PointRecord
{
    /// <summary>0, 1, 2 … per disk.</summary>
    public required int Number { get; init; }

    /// <summary>The qcow2 file, relative to the backup folder.</summary>
    public required string File { get; init; }

    /// <summary>Full, incremental or differential.</summary>
    public required PointLevel Level { get; init; }

    /// <summary>The point this one is an overlay on (null for a full point).</summary>
    public int? BackingPoint { get; init; }

    /// <summary>The checkpoints whose changes this point holds (empty for a full point).</summary>
    public IReadOnlyList<string> CheckpointsUsed { get; init; } = [];

    /// <summary>The checkpoint started for the next point when this one was taken (null for a raw image).</summary>
    public string? CheckpointCreated { get; init; }

    /// <summary>The source image at the time.</summary>
    public required string Source { get; init; }

    /// <summary>The disk this point was taken of (null in manifests written before it was recorded).</summary>
    public DiskIdentity? Disk { get; init; }

    /// <summary>The disk's virtual size.</summary>
    public long VirtualSize { get; init; }

    /// <summary>Bytes copied as data.</summary>
    public ulong BytesCopied { get; init; }

    /// <summary>Bytes written as zeroes.</summary>
    public ulong BytesZeroed { get; init; }

    /// <summary>When the export started.</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>When the point was in place.</summary>
    public DateTimeOffset EndTime { get; init; }

    /// <summary>The version of offline-export that wrote it.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>True when qemu-img compare proved it identical to the source at backup time.</summary>
    public bool Verified { get; init; }

    /// <summary>
    /// The SHA-256 (lower-case hex) of <see cref="File"/> when the point was written (or last merged by
    /// <c>forget</c>): <c>check --read-data</c> and <c>restore</c> prove the file unchanged by it. Null in
    /// manifests written before it was recorded.
    /// </summary>
    public string? FileSha256 { get; init; }

    /// <summary>The size of <see cref="File"/> in bytes when <see cref="FileSha256"/> was taken (null with it).</summary>
    public long? FileSize { get; init; }

    /// <summary>
    /// Where the point came from when it was not made by this tool: a backup libvirt wrote at the checkpoint
    /// <see cref="CheckpointCreated"/> (<c>backup --seed</c>). Its checkpoint is libvirt's, trusted as the start
    /// of the next window and never removed by this folder. Null for points this tool made.
    /// </summary>
    public string? ImportedFrom { get; init; }
}
