using System.Runtime.CompilerServices;
using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Streams the requests of an export: for an incremental, the dirty runs of the backup bitmap, each
/// split by <c>base:allocation</c> into data and zero ranges; for a full export, the allocation map of
/// the whole disk with zero ranges skipped. Nothing outside the dirty runs is looked at or read.
/// </summary>
public sealed class ExportPlanner
{
    /// <summary>Dirty runs are handed on in pieces of at most this, so copying starts early on huge runs.</summary>
    public const ulong MaximumRun = 1UL << 30;

    private readonly IBlockSource? _dirtyScanner;
    private readonly string? _dirtyContext;
    private readonly IBlockSource _allocationScanner;
    private readonly ulong _size;
    private readonly ulong _maximumData;
    private readonly ulong _maximumZero;

    /// <summary>Creates a planner.</summary>
    /// <param name="dirtyScanner">The source with the dirty-bitmap context selected, or null for a full export.</param>
    /// <param name="dirtyContext">The dirty-bitmap context name, or null for a full export.</param>
    /// <param name="allocationScanner">The source with the base:allocation context selected.</param>
    /// <param name="size">The disk size.</param>
    /// <param name="maximumData">Largest data request.</param>
    /// <param name="maximumZero">Largest zero request.</param>
    public ExportPlanner(IBlockSource? dirtyScanner, string? dirtyContext, IBlockSource allocationScanner, ulong size, ulong maximumData, ulong maximumZero)
    {
        _dirtyScanner = dirtyScanner;
        _dirtyContext = dirtyContext;
        _allocationScanner = allocationScanner;
        _size = size;
        _maximumData = maximumData;
        _maximumZero = maximumZero;
    }

    /// <summary>True for an incremental (or differential) export.</summary>
    public bool IsIncremental => _dirtyScanner is not null;

    /// <summary>
    /// At most this many dirty runs or planned ranges are kept between the measuring walk and the copy;
    /// a more fragmented disk is simply walked twice, so memory stays bounded.
    /// </summary>
    public const int MaximumKeptRuns = 65536;

    /// <summary>Allocation is fetched this far ahead of a dirty run, so one query serves the runs after it too.</summary>
    public const uint AllocationLookahead = 1u << 30;

    /// <summary>
    /// Streams the planned requests in disk order. With a <paramref name="measurement"/>, what it kept is
    /// replayed (a full export's ranges, an incremental's dirty runs) instead of walked again.
    /// </summary>
    public async IAsyncEnumerable<CopyRange> PlanAsync(ExportMeasurement? measurement, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (measurement?.Ranges is { } measured)
        {
            foreach (var range in measured)
            {
                yield return range;
            }

            yield break;
        }

        var builder = new CopyRangeBuilder(_maximumData, _maximumZero, emitZero: IsIncremental);
        var window = new AllocationWindow();
        var pieces = new List<NbdExtent>();
        var ranges = new List<CopyRange>();
        await foreach (var run in RunsAsync(measurement?.DirtyRuns, cancellationToken).ConfigureAwait(false))
        {
            var offset = run.Offset;
            while (offset < run.End)
            {
                if (!window.Covers(offset))
                {
                    var length = (uint)Math.Min(_size - offset, Math.Max(Math.Min(run.End - offset, ExtentScanner.MaxRequestLength), AllocationLookahead));
                    var status = await _allocationScanner.BlockStatusAsync(offset, length, cancellationToken).ConfigureAwait(false);
                    window.Reset(status[NbdProtocol.BaseAllocationContext]);
                }

                offset = window.Slice(offset, run.End, pieces);
                foreach (var piece in pieces)
                {
                    // Decide on ZERO only: HOLE alone says nothing about content over a backing chain.
                    var kind = (piece.Flags & NbdProtocol.StateZero) != 0 ? CopyKind.Zero : CopyKind.Data;
                    builder.Add(piece.Offset, piece.Length, kind, ranges);
                }

                pieces.Clear();
                foreach (var range in ranges)
                {
                    yield return range;
                }

                ranges.Clear();
            }
        }

        builder.Flush(ranges);
        foreach (var range in ranges)
        {
            yield return range;
        }
    }

    /// <summary>Adds up what a plan does (a dry run's report).</summary>
    public static async Task<ExportTotals> TotalsAsync(IAsyncEnumerable<CopyRange> plan, CancellationToken cancellationToken)
    {
        ulong data = 0, zero = 0;
        await foreach (var range in plan.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (range.Kind == CopyKind.Data)
            {
                data += range.Length;
            }
            else
            {
                zero += range.Length;
            }
        }

        return new ExportTotals(data, zero);
    }

    /// <summary>
    /// Measures the work before the copy (the progress total, and how the target is opened). An
    /// incremental walks the bitmap once, cheaply; a full export measures by planning. What fits in
    /// <see cref="MaximumKeptRuns"/> is kept for <see cref="PlanAsync"/>: on a huge sparse disk the walk is
    /// most of the cost.
    /// </summary>
    public async Task<ExportMeasurement> MeasureAsync(CancellationToken cancellationToken)
    {
        ulong work = 0;
        if (!IsIncremental)
        {
            List<CopyRange>? ranges = [];
            await foreach (var range in PlanAsync(null, cancellationToken).ConfigureAwait(false))
            {
                work += range.Length;
                Keep(ref ranges, range);
            }

            return new ExportMeasurement(work, null, ranges);
        }

        List<ByteRange>? runs = [];
        await foreach (var run in RunsAsync(null, cancellationToken).ConfigureAwait(false))
        {
            work += run.Length;
            Keep(ref runs, run);
        }

        return new ExportMeasurement(work, runs, null);
    }

    /// <summary>Adds <paramref name="item"/> while the list stays within <see cref="MaximumKeptRuns"/>; past that, gives up keeping.</summary>
    private static void Keep<T>(ref List<T>? kept, T item)
    {
        if (kept is not null && kept.Count < MaximumKeptRuns)
        {
            kept.Add(item);
        }
        else
        {
            kept = null;
        }
    }

    private async IAsyncEnumerable<ByteRange> RunsAsync(IReadOnlyList<ByteRange>? measured, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (measured is not null)
        {
            foreach (var run in measured)
            {
                yield return run;
            }

            yield break;
        }

        if (_dirtyScanner is null)
        {
            // Full export: the whole disk, in pieces.
            for (ulong offset = 0; offset < _size; offset += MaximumRun)
            {
                yield return new ByteRange(offset, Math.Min(MaximumRun, _size - offset));
            }

            yield break;
        }

        var runs = new ExtentRuns(MaximumRun);
        var output = new List<ByteRange>();
        await foreach (var batch in ExtentScanner.ScanAsync(_dirtyScanner, _dirtyContext!, 0, _size, cancellationToken).ConfigureAwait(false))
        {
            foreach (var extent in batch)
            {
                runs.Add(extent, (extent.Flags & NbdProtocol.StateDirty) != 0, output);
            }

            foreach (var run in output)
            {
                yield return run;
            }

            output.Clear();
        }

        runs.Flush(output);
        foreach (var run in output)
        {
            yield return run;
        }
    }
}
