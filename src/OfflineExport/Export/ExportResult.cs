namespace OfflineExport.Export;

/// <summary>What an export did.</summary>
public sealed record ExportResult
{
    /// <summary>The source image.</summary>
    public required string Image { get; init; }

    /// <summary>The backup written (or that would be written, for a dry run).</summary>
    public required string Output { get; init; }

    /// <summary>The top image's format as it was read ("raw" or "qcow2").</summary>
    public required string Format { get; init; }

    /// <summary>Whether the caller stated the format or qemu detected it.</summary>
    public FormatOrigin FormatOrigin { get; init; }

    /// <summary>Things the user should know that did not stop the export (a detected format).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Full, incremental or differential.</summary>
    public required ExportMode Mode { get; init; }

    /// <summary>The checkpoints exported.</summary>
    public IReadOnlyList<string> Bitmaps { get; init; } = [];

    /// <summary>OUTPUT's backing file as recorded in it (relative to OUTPUT's folder), or null.</summary>
    public string? Backing { get; init; }

    /// <summary>The disk's virtual size.</summary>
    public ulong VirtualSize { get; init; }

    /// <summary>Bytes the plan selected: dirty (incremental) or allocated non-zero (full).</summary>
    public ulong PlannedBytes => PlannedDataBytes + PlannedZeroBytes;

    /// <summary>Planned bytes to read and write as data.</summary>
    public ulong PlannedDataBytes { get; init; }

    /// <summary>Planned bytes to write as zeroes (incremental: dirty ranges that read as zero).</summary>
    public ulong PlannedZeroBytes { get; init; }

    /// <summary>Bytes read and written as data.</summary>
    public ulong BytesCopied { get; init; }

    /// <summary>Bytes written as zeroes.</summary>
    public ulong BytesZeroed { get; init; }

    /// <summary>Requests sent to the target (writes and zero writes).</summary>
    public long Requests { get; init; }

    /// <summary>When the export started.</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>True when <c>qemu-img compare</c> found OUTPUT identical to the image.</summary>
    public bool Verified { get; init; }

    /// <summary>True when nothing was written.</summary>
    public bool DryRun { get; init; }
}
