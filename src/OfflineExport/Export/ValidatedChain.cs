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

    /// <summary>
    /// The smallest allocation unit of any layer: a qcow2 layer's cluster (512 bytes, the least qcow2 allows, when
    /// unknown), a raw layer's 4 KiB (its file system's block). What <see cref="UntrackedChangeFinder"/> counts zeroes
    /// inside allocated clusters by: no smaller than the unit a re-grown layer allocates in.
    /// </summary>
    public ulong SmallestCluster => Layers.Min(l => l.Format == "qcow2" ? (ulong)(l.Info.ClusterSize ?? 512) : 4096UL);
}
