using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Pure, streaming: turns consecutive extents into runs of selected bytes (e.g. dirty ones), merging
/// neighbours. A run is emitted in pieces that end on multiples of <c>maximumRun</c> as soon as they
/// are known, so memory stays bounded and work can start before a huge run has been seen whole.
/// </summary>
public sealed class ExtentRuns
{
    // Runs are ranges of one kind: the builder already merges neighbours and cuts aligned pieces.
    private readonly CopyRangeBuilder _builder;
    private readonly List<CopyRange> _pieces = [];

    /// <summary>Creates the accumulator.</summary>
    public ExtentRuns(ulong maximumRun) => _builder = new CopyRangeBuilder(maximumRun, maximumRun, emitZero: true);

    /// <summary>Adds the next extent; appends completed run pieces to <paramref name="output"/>.</summary>
    public void Add(NbdExtent extent, bool selected, List<ByteRange> output)
    {
        if (selected)
        {
            _builder.Add(extent.Offset, extent.Length, CopyKind.Data, _pieces);
        }
        else
        {
            _builder.Flush(_pieces);
        }

        Drain(output);
    }

    /// <summary>Emits the run in progress, if any.</summary>
    public void Flush(List<ByteRange> output)
    {
        _builder.Flush(_pieces);
        Drain(output);
    }

    private void Drain(List<ByteRange> output)
    {
        foreach (var piece in _pieces)
        {
            output.Add(new ByteRange(piece.Offset, piece.Length));
        }

        _pieces.Clear();
    }
}
