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

    private readonly NbdClient? _dirtyScanner;
    private readonly string? _dirtyContext;
    private readonly NbdClient _allocationScanner;
    private readonly ulong _size;
    private readonly ulong _maximumData;
    private readonly ulong _maximumZero;

    /// <summary>The dirty runs found by <see cref="MeasureWorkAsync"/>, replayed by the plan instead of a second bitmap walk; null when not kept.</summary>
    private List<ByteRange>? _measuredRuns;

    /// <summary>The ranges a full export's <see cref="MeasureAsync"/> planned, replayed instead of a second allocation walk; null when not kept.</summary>
    private List<CopyRange>? _measuredRanges;

    /// <summary>Creates a planner.</summary>
    /// <param name="dirtyScanner">Connection with the dirty-bitmap context, or null for a full export.</param>
    /// <param name="dirtyContext">The dirty-bitmap context name, or null for a full export.</param>
    /// <param name="allocationScanner">Connection with the base:allocation context.</param>
    /// <param name="size">The disk size.</param>
    /// <param name="maximumData">Largest data request.</param>
    /// <param name="maximumZero">Largest zero request.</param>
    public ExportPlanner(NbdClient? dirtyScanner, string? dirtyContext, NbdClient allocationScanner, ulong size, ulong maximumData, ulong maximumZero)
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

    /// <summary>Streams the planned requests in disk order.</summary>
    public async IAsyncEnumerable<CopyRange> PlanAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_measuredRanges is { } measured)
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
        await foreach (var run in RunsAsync(cancellationToken).ConfigureAwait(false))
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

    /// <summary>Adds up what <see cref="PlanAsync"/> would do, without reading any data (for dry runs).</summary>
    public async Task<ExportTotals> MeasureAsync(CancellationToken cancellationToken)
    {
        ulong data = 0, zero = 0;
        List<CopyRange>? kept = [];
        await foreach (var range in PlanAsync(cancellationToken).ConfigureAwait(false))
        {
            Keep(ref kept, range);
            if (range.Kind == CopyKind.Data)
            {
                data += range.Length;
            }
            else
            {
                zero += range.Length;
            }
        }

        // A full export measures by planning: the copy replays the plan when it fits.
        _measuredRanges = IsIncremental ? null : kept;
        return new ExportTotals(data, zero);
    }

    /// <summary>
    /// The progress total: for an incremental, the dirty bytes (one cheap walk of the bitmap, since every
    /// dirty byte is copied or zeroed); for a full export, the allocated non-zero bytes.
    /// </summary>
    public async Task<ulong> MeasureWorkAsync(CancellationToken cancellationToken)
    {
        if (!IsIncremental)
        {
            return (await MeasureAsync(cancellationToken).ConfigureAwait(false)).TotalBytes;
        }

        ulong dirty = 0;
        List<ByteRange>? kept = [];
        await foreach (var run in RunsAsync(cancellationToken).ConfigureAwait(false))
        {
            dirty += run.Length;
            Keep(ref kept, run);
        }

        // On a huge sparse disk the bitmap walk is most of the cost: do it once when the runs fit.
        _measuredRuns = kept;
        return dirty;
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

    private async IAsyncEnumerable<ByteRange> RunsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_measuredRuns is { } measured)
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
