using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Pure: the allocation extents of one stretch of the disk, fetched in one BLOCK_STATUS and then
/// consulted for every dirty run inside it. One large query answers hundreds of small dirty runs,
/// where a query per run would cost a round trip each (NBD-CLIENT.md: "block status over large ranges").
/// </summary>
public sealed class AllocationWindow
{
    private List<NbdExtent> _extents = [];
    private int _cursor;

    /// <summary>First byte covered.</summary>
    public ulong Start { get; private set; }

    /// <summary>One past the last byte covered.</summary>
    public ulong End { get; private set; }

    /// <summary>True when <paramref name="offset"/> lies inside the window.</summary>
    public bool Covers(ulong offset) => offset >= Start && offset < End;

    /// <summary>Replaces the window with <paramref name="extents"/> (contiguous, in order, at least one).</summary>
    public void Reset(IReadOnlyList<NbdExtent> extents)
    {
        if (extents.Count == 0)
        {
            throw new ArgumentException("a window needs at least one extent", nameof(extents));
        }

        _extents = [.. extents];
        _cursor = 0;
        Start = extents[0].Offset;
        End = extents[^1].End;
    }

    /// <summary>
    /// Appends to <paramref name="output"/> the parts of [<paramref name="offset"/>, <paramref name="end"/>)
    /// inside the window, each with its extent's flags, and returns where they stop (the window's end
    /// when the range runs past it). Queries must move forward: the window keeps a cursor.
    /// </summary>
    public ulong Slice(ulong offset, ulong end, List<NbdExtent> output)
    {
        if (!Covers(offset))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is outside the window [{Start}, {End})");
        }

        if (_cursor < _extents.Count && _extents[_cursor].Offset > offset)
        {
            _cursor = 0; // a step back: start over (never happens in disk order)
        }

        while (_cursor < _extents.Count && _extents[_cursor].End <= offset)
        {
            _cursor++;
        }

        var stop = Math.Min(end, End);
        for (var i = _cursor; i < _extents.Count && _extents[i].Offset < stop; i++)
        {
            var extent = _extents[i];
            var from = Math.Max(extent.Offset, offset);
            var to = Math.Min(extent.End, stop);
            output.Add(new NbdExtent(from, to - from, extent.Flags));
        }

        return stop;
    }
}
