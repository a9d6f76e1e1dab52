using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Pure: finds a change the checkpoint did not see, from allocation metadata alone (no data is read).
/// Where the previous backup holds data but the disk now reads as zeroes by its metadata (unallocated
/// or a zero cluster) outside the dirty bitmap, the disk changed without the bitmap noticing — a shrink
/// and re-grow discards data and qemu resizes the bitmaps without marking it — and an incremental would
/// keep the old data there. Writes of zeroes and discards by the guest are dirty, so they never count.
/// Zeroes qemu reports inside allocated clusters (ZERO without HOLE) count only by whole clusters: a re-grow
/// with preallocation leaves whole clusters like that and is a change, while the unwritten rest of a partly
/// written cluster (a hole in the image file) never fills one, and counted, it refused every incremental after
/// a partial write into a 2 MiB cluster.
/// </summary>
public static class UntrackedChangeFinder
{
    /// <summary>
    /// The first range, in disk order, where <paramref name="previous"/> (the previous backup's
    /// <c>base:allocation</c>, streamed) holds data, <paramref name="source"/> (the disk's
    /// <c>base:allocation</c>) reads zero and <paramref name="dirty"/> (the checkpoints) is clean; null when there is none.
    /// </summary>
    /// <remarks>The disk is asked only where the previous backup has data, the bitmap only where the disk also reads zero; memory holds one answer per context.</remarks>
    /// <param name="previous">The previous backup's <c>base:allocation</c>, in disk order.</param>
    /// <param name="source">The disk's <c>base:allocation</c>.</param>
    /// <param name="dirty">The checkpoints' dirty bitmap.</param>
    /// <param name="size">The disk size.</param>
    /// <param name="cluster">The smallest cluster of the disk's chain (a power of two; 4 KiB where a layer is raw): the unit zeroes inside allocated clusters count by.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    public static async Task<ByteRange?> FindAsync(
        IAsyncEnumerable<IReadOnlyList<NbdExtent>> previous, ExtentCursor source, ExtentCursor dirty, ulong size, ulong cluster, CancellationToken cancellationToken)
    {
        await foreach (var batch in previous.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            foreach (var extent in batch)
            {
                if ((extent.Flags & NbdProtocol.StateZero) != 0)
                {
                    continue;
                }

                var end = Math.Min(extent.End, size);
                for (var offset = extent.Offset; offset < end;)
                {
                    var now = await source.AtAsync(offset, cancellationToken).ConfigureAwait(false);
                    var stop = Math.Min(end, now.End);
                    if (await ZeroByMetadataAsync(source, now, offset, stop, size, cluster, cancellationToken).ConfigureAwait(false) is { } zero
                        && await FirstCleanAsync(dirty, zero.Offset, zero.End, cancellationToken).ConfigureAwait(false) is { } clean)
                    {
                        return clean;
                    }

                    offset = stop;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The part of [<paramref name="offset"/>, <paramref name="stop"/>), inside the disk's extent <paramref name="now"/>,
    /// that reads zero by the disk's metadata, or null: all of it when unallocated or a zero cluster (HOLE and ZERO);
    /// with ZERO alone, the clusters wholly ZERO. Those inside <paramref name="now"/> are; a cluster at either end may
    /// reach past what this answer shows (it starts where it was asked), so it is asked for whole.
    /// </summary>
    private static async Task<ByteRange?> ZeroByMetadataAsync(ExtentCursor source, NbdExtent now, ulong offset, ulong stop, ulong size, ulong cluster, CancellationToken cancellationToken)
    {
        if ((now.Flags & NbdProtocol.StateZero) == 0)
        {
            return null;
        }

        if ((now.Flags & NbdProtocol.StateHole) != 0)
        {
            return new ByteRange(offset, stop - offset);
        }

        var first = offset / cluster * cluster;
        var last = (stop - 1) / cluster * cluster;
        var start = await WholeClusterZeroAsync(source, now, first, size, cluster, cancellationToken).ConfigureAwait(false) ? offset : first + cluster;
        var end = await WholeClusterZeroAsync(source, now, last, size, cluster, cancellationToken).ConfigureAwait(false) ? stop : last;
        return start < end ? new ByteRange(start, end - start) : null;
    }

    /// <summary>Whether the cluster at <paramref name="start"/> reads zero from end to end (ZERO in every extent over it).</summary>
    private static async Task<bool> WholeClusterZeroAsync(ExtentCursor source, NbdExtent now, ulong start, ulong size, ulong cluster, CancellationToken cancellationToken)
    {
        var end = Math.Min(start + cluster, size);
        if (now.Offset <= start && end <= now.End)
        {
            return true;
        }

        for (var offset = start; offset < end;)
        {
            var extent = await source.AtAsync(offset, cancellationToken).ConfigureAwait(false);
            if ((extent.Flags & NbdProtocol.StateZero) == 0)
            {
                return false;
            }

            offset = extent.End;
        }

        return true;
    }

    private static async Task<ByteRange?> FirstCleanAsync(ExtentCursor dirty, ulong offset, ulong end, CancellationToken cancellationToken)
    {
        while (offset < end)
        {
            var extent = await dirty.AtAsync(offset, cancellationToken).ConfigureAwait(false);
            var stop = Math.Min(end, extent.End);
            if ((extent.Flags & NbdProtocol.StateDirty) == 0)
            {
                return new ByteRange(offset, stop - offset);
            }

            offset = stop;
        }

        return null;
    }
}
