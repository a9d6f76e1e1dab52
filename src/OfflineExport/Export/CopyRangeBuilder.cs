namespace OfflineExport.Export;

/// <summary>
/// Pure, streaming: merges neighbouring ranges of the same kind and cuts them into requests no larger
/// than the maximum for their kind, at aligned boundaries. Zero ranges are dropped when the target has
/// no backing file (a full export: unwritten clusters already read as zeroes).
/// </summary>
public sealed class CopyRangeBuilder
{
    private readonly ulong _maximumData;
    private readonly ulong _maximumZero;
    private readonly bool _emitZero;
    private ulong _start;
    private ulong _end;
    private CopyKind _kind;
    private bool _open;

    /// <summary>Creates the builder.</summary>
    /// <param name="maximumData">Largest READ/WRITE request.</param>
    /// <param name="maximumZero">Largest WRITE_ZEROES request.</param>
    /// <param name="emitZero">False for a full export: zero ranges are skipped.</param>
    public CopyRangeBuilder(ulong maximumData, ulong maximumZero, bool emitZero)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maximumData);
        ArgumentOutOfRangeException.ThrowIfZero(maximumZero);
        _maximumData = maximumData;
        _maximumZero = maximumZero;
        _emitZero = emitZero;
    }

    /// <summary>Adds the next range; appends finished requests to <paramref name="output"/>.</summary>
    public void Add(ulong offset, ulong length, CopyKind kind, List<CopyRange> output)
    {
        if (length == 0)
        {
            return;
        }

        if (_open && (kind != _kind || offset != _end))
        {
            Flush(output);
        }

        if (!_open)
        {
            _start = offset;
            _kind = kind;
            _open = true;
        }

        _end = offset + length;
        // Emit every full aligned piece now; keep only the tail that may still grow.
        var maximum = Maximum(_kind);
        var boundary = AlignedSplitter.LastBoundary(_end, maximum);
        while (_start < boundary)
        {
            var pieceEnd = AlignedSplitter.FirstPieceEnd(_start, boundary, maximum);
            Emit(_start, pieceEnd, output);
            _start = pieceEnd;
        }

        _open = _start < _end;
    }

    /// <summary>Emits the range in progress, if any.</summary>
    public void Flush(List<CopyRange> output)
    {
        if (_open && _end > _start)
        {
            Emit(_start, _end, output);
        }

        _open = false;
    }

    private ulong Maximum(CopyKind kind) => kind == CopyKind.Data ? _maximumData : _maximumZero;

    private void Emit(ulong start, ulong end, List<CopyRange> output)
    {
        if (_kind == CopyKind.Zero && !_emitZero)
        {
            return;
        }

        output.Add(new CopyRange(start, end - start, _kind));
    }
}
