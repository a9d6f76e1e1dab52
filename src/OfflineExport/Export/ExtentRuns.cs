using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Pure, streaming: turns consecutive extents into runs of selected bytes (e.g. dirty ones), merging
/// neighbours. A run is emitted in pieces that end on multiples of <c>maximumRun</c> as soon as they
/// are known, so memory stays bounded and work can start before a huge run has been seen whole.
/// </summary>
public sealed class ExtentRuns
{
    private readonly ulong _maximumRun;
    private ulong _start;
    private ulong _end;
    private bool _open;

    /// <summary>Creates the accumulator.</summary>
    public ExtentRuns(ulong maximumRun)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maximumRun);
        _maximumRun = maximumRun;
    }

    /// <summary>Adds the next extent; appends completed run pieces to <paramref name="output"/>.</summary>
    public void Add(NbdExtent extent, bool selected, List<ByteRange> output)
    {
        if (!selected)
        {
            Flush(output);
            return;
        }

        if (_open && extent.Offset != _end)
        {
            Flush(output);
        }

        if (!_open)
        {
            _start = extent.Offset;
            _open = true;
        }

        _end = extent.End;
        var boundary = AlignedSplitter.LastBoundary(_end, _maximumRun);
        while (_start < boundary)
        {
            var pieceEnd = AlignedSplitter.FirstPieceEnd(_start, boundary, _maximumRun);
            output.Add(new ByteRange(_start, pieceEnd - _start));
            _start = pieceEnd;
        }

        _open = _start < _end;
    }

    /// <summary>Emits the run in progress, if any.</summary>
    public void Flush(List<ByteRange> output)
    {
        if (_open && _end > _start)
        {
            output.Add(new ByteRange(_start, _end - _start));
        }

        _open = false;
    }
}
