namespace OfflineExport.Export;

/// <summary>
/// Cuts ranges at multiples of a maximum size, counted from offset 0 of the disk, so that request
/// boundaries line up with clusters and a long range becomes full-size aligned pieces.
/// </summary>
public static class AlignedSplitter
{
    /// <summary>The end of the first piece of [<paramref name="offset"/>, <paramref name="end"/>) when pieces are at most <paramref name="maximum"/> and aligned to it.</summary>
    public static ulong FirstPieceEnd(ulong offset, ulong end, ulong maximum)
    {
        var boundary = (offset / maximum + 1) * maximum;
        return Math.Min(end, boundary);
    }

    /// <summary>The last aligned boundary at or before <paramref name="end"/> (0 when none).</summary>
    public static ulong LastBoundary(ulong end, ulong maximum) => end / maximum * maximum;
}
