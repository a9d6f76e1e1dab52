namespace OfflineExport.Export;

/// <summary>One disk to export.</summary>
public sealed record ExportRequest
{
    /// <summary>The top (active) image of the stopped VM's disk.</summary>
    public required string Image { get; init; }

    /// <summary>
    /// The top image's format as the caller knows it ("raw" or "qcow2"). Null: qemu guesses it from the
    /// file's first bytes, and the result says so; a raw disk's guest can write a qcow2 header there.
    /// </summary>
    public string? Format { get; init; }

    /// <summary>Where the backup goes (a new qcow2).</summary>
    public required string Output { get; init; }

    /// <summary>Checkpoints (dirty bitmaps) to export the changes of; empty for a full export.</summary>
    public IReadOnlyList<string> Bitmaps { get; init; } = [];

    /// <summary>The previous backup, which OUTPUT will use as its backing file (required with bitmaps).</summary>
    public string? Backing { get; init; }

    /// <summary>Replace OUTPUT if it exists.</summary>
    public bool Force { get; init; }

    /// <summary>Run <c>qemu-img compare</c> before OUTPUT is put in place.</summary>
    public bool Verify { get; init; }

    /// <summary>Validate and measure only; write nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Set by a backup run that already ran <c>qemu-img check</c> on this chain, before it added a checkpoint.</summary>
    internal bool LayersChecked { get; init; }

    /// <summary>The mode the bitmaps imply.</summary>
    public ExportMode Mode => Bitmaps.Distinct(StringComparer.Ordinal).Count() switch
    {
        0 => ExportMode.Full,
        1 => ExportMode.Incremental,
        _ => ExportMode.Differential,
    };
}
