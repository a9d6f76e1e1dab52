namespace OfflineExport.Export;

/// <summary>A source chain that passed validation, with the bitmaps to merge for the requested checkpoints.</summary>
/// <param name="Layers">The layers, top first.</param>
/// <param name="MergeSources">Every (layer, bitmap name) pair whose bitmap goes into the temporary backup bitmap.</param>
/// <param name="Granularity">The finest granularity among the merge sources (0 for a full export).</param>
public sealed record ValidatedChain(IReadOnlyList<ChainLayer> Layers, IReadOnlyList<(ChainLayer Layer, string Bitmap)> MergeSources, long Granularity)
{
    /// <summary>What the operator should know about how the checkpoints were read (an incremental across an empty external snapshot).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The top (active) layer.</summary>
    public ChainLayer Top => Layers[0];

    /// <summary>The virtual size of the disk.</summary>
    public long VirtualSize => Top.Info.VirtualSize;
}
