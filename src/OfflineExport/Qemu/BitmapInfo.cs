namespace OfflineExport.Qemu;

/// <summary>A persistent dirty bitmap (a checkpoint) stored in a qcow2 layer.</summary>
public sealed record BitmapInfo
{
    /// <summary>The bitmap's name.</summary>
    public required string Name { get; init; }

    /// <summary>Bytes covered by one bit.</summary>
    public long Granularity { get; init; }

    /// <summary>Flags: "auto" (recording writes), "in-use" (inconsistent: not closed cleanly).</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>True when the bitmap records writes.</summary>
    public bool IsEnabled => Flags.Contains("auto");

    /// <summary>True when the bitmap is inconsistent and must not be trusted.</summary>
    public bool IsInUse => Flags.Contains("in-use");
}
