using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Pure: finds a change the checkpoint did not see, from allocation metadata alone (no data is read).
/// Where the previous backup holds data but the disk now reads as zeroes by its metadata (unallocated
/// or a zero cluster) outside the dirty bitmap, the disk changed without the bitmap noticing — a shrink
/// and re-grow discards data and qemu resizes the bitmaps without marking it — and an incremental would
/// keep the old data there. Writes of zeroes and discards by the guest are dirty, so they never count.
/// </summary>
public static class UntrackedChangeFinder
{
    /// <summary>
    /// The first range, in disk order, where <paramref name="previous"/> (the previous backup's
    /// <c>base:allocation</c>, streamed) holds data, <paramref name="source"/> (the disk's
    /// <c>base:allocation</c>) reads zero and <paramref name="dirty"/> (the checkpoints) is clean; null when there is none.
    /// </summary>
    /// <remarks>The disk is asked only where the previous backup has data, the bitmap only where the disk also reads zero; memory holds one answer per context.</remarks>
    public static async Task<ByteRange?> FindAsync(
        IAsyncEnumerable<IReadOnlyList<NbdExtent>> previous, ExtentCursor source, ExtentCursor dirty, ulong size, CancellationToken cancellationToken)
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
                    if ((now.Flags & NbdProtocol.StateZero) != 0 && await FirstCleanAsync(dirty, offset, stop, cancellationToken).ConfigureAwait(false) is { } clean)
                    {
                        return clean;
                    }

                    offset = stop;
                }
            }
        }

        return null;
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
