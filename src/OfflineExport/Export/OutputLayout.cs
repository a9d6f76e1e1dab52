namespace OfflineExport.Export;

/// <summary>
/// The cluster size and subcluster allocation (<c>extended_l2</c>) of a new qcow2 backup, chosen so that the
/// backup can say "zero" as finely as the chain it copies from. The untracked-change check of the next
/// incremental compares the two: where the disk reads ZERO and the backup holds data, it refuses. A backup
/// that holds a zero run only as padding inside a data cluster therefore refused every incremental after it:
/// a raw layer (whose holes are file-system blocks), an <c>extended_l2</c> layer (unallocated subclusters), or
/// a lower layer with smaller clusters than the top all report zero runs finer than the top's clusters.
/// </summary>
/// <param name="ClusterSize">The new image's cluster size in bytes.</param>
/// <param name="ExtendedL2">True when its clusters are allocated in 32 subclusters each.</param>
public readonly record struct OutputLayout(int ClusterSize, bool ExtendedL2)
{
    /// <summary>The cluster size of a backup of a raw disk, and qemu's default.</summary>
    public const int DefaultClusterSize = 65536;

    /// <summary>The finest zero run a raw layer reports: its holes, file-system blocks of 4 KiB on the usual file systems.</summary>
    public const int RawZeroGranularity = 4096;

    /// <summary>qemu's bounds for <c>extended_l2</c>: clusters of 16 KiB to 2 MiB, 32 subclusters each.</summary>
    private const int MinimumExtendedCluster = 16384;
    private const int MaximumCluster = 2 << 20;
    private const int Subclusters = 32;

    /// <summary>The finest zero run a layer reports: a subcluster, a cluster, or (raw) a file-system block.</summary>
    /// <param name="format">"qcow2" or "raw".</param>
    /// <param name="clusterSize">Its cluster size (qcow2), or null.</param>
    /// <param name="extendedL2">True when it allocates subclusters.</param>
    public static int ZeroGranularity(string format, int? clusterSize, bool extendedL2) =>
        format != ImageFormats.Qcow2 || clusterSize is not { } size
            ? RawZeroGranularity
            : extendedL2 ? Math.Max(size / Subclusters, 512) : size;

    /// <summary>
    /// The layout for a backup of a disk whose top has <paramref name="topClusterSize"/> and whose layers report
    /// zero runs as fine as <paramref name="zeroGranularities"/>: the top's cluster size when that is fine enough
    /// (what every backup had before), otherwise subclusters no larger than the finest run, in clusters no larger
    /// than the top's, or of 16 KiB (512-byte subclusters) for a top with smaller clusters.
    /// </summary>
    public static OutputLayout For(int topClusterSize, IEnumerable<int> zeroGranularities)
    {
        var finest = zeroGranularities.DefaultIfEmpty(topClusterSize).Min();
        if (finest >= topClusterSize)
        {
            return new OutputLayout(topClusterSize, ExtendedL2: false);
        }

        // A top below 16 KiB gets the smallest clusters subclusters allow (512-byte subclusters), larger than its own.
        var cluster = (int)Math.Max(Math.Min(Math.Min(topClusterSize, MaximumCluster), (long)finest * Subclusters), MinimumExtendedCluster);
        return new OutputLayout(cluster, ExtendedL2: true);
    }

    /// <summary>
    /// The layout for a backup of <paramref name="layers"/> (the source chain, top first). A lower layer shorter
    /// than the disk ends a zero run at its own end too: a backing file of 1 MiB + 512 bytes reads zero from
    /// there on, so its size counts as fine as its lowest set bit.
    /// </summary>
    public static OutputLayout For(IReadOnlyList<ChainLayer> layers)
    {
        var diskSize = layers[0].Info.VirtualSize;
        return For(
            layers[0].Info.ClusterSize ?? DefaultClusterSize,
            layers.Select(layer =>
            {
                var granularity = ZeroGranularity(layer.Format, layer.Info.ClusterSize, layer.Info.FormatSpecific?.Data?.ExtendedL2 == true);
                var size = layer.Info.VirtualSize;
                return size > 0 && size < diskSize ? (int)Math.Min(granularity, size & -size) : granularity;
            }));
    }

    /// <summary>The same as <c>qemu-img create -o</c> options.</summary>
    public string QemuImgOptions => ExtendedL2 ? $"cluster_size={ClusterSize},extended_l2=on" : $"cluster_size={ClusterSize}";
}
