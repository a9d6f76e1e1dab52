using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Executes a plan with bounded concurrency: a producer streams planned ranges into a small queue,
/// a fixed set of workers each own one pooled buffer and carry ranges from the source connections to
/// the target connections. Memory is workers × request size, whatever the disk size. Over NBD a worker
/// resumes on the reply thread that received what it awaited, so its next request leaves from there.
/// </summary>
public sealed class CopyEngine
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(200);

    private readonly IBlockSource _source;
    private readonly IBlockTarget _target;
    private readonly int _workers;
    private readonly int _bufferSize;
    private readonly bool _targetHasBacking;
    private readonly IProgress<ExportProgress>? _progress;
    private readonly Stopwatch _clock = new();
    private ulong _totalBytes;
    private long _bytesDone;
    private long _bytesCopied;
    private long _bytesZeroed;
    private long _requests;
    private long _plannedData;
    private long _plannedZero;
    private long _lastReportTicks;
    private Exception? _firstFailure;

    /// <summary>Creates an engine.</summary>
    /// <param name="source">Where the data is read (the source export).</param>
    /// <param name="target">Where it is written (the target export).</param>
    /// <param name="workers">Ranges handled at once.</param>
    /// <param name="bufferSize">Largest data range (each worker owns one buffer this big).</param>
    /// <param name="targetHasBacking">True for an incremental: zero data must be written as zeroes to mask the backing file.</param>
    /// <param name="progress">Receives progress at most every 200 ms and once at the end.</param>
    public CopyEngine(IBlockSource source, IBlockTarget target, int workers, int bufferSize, bool targetHasBacking, IProgress<ExportProgress>? progress)
    {
        _source = source;
        _target = target;
        _workers = Math.Max(1, workers);
        _bufferSize = bufferSize;
        _targetHasBacking = targetHasBacking;
        _progress = progress;
    }

    /// <summary>Copies every range of <paramref name="plan"/>; the first real failure wins over the cancellations it causes.</summary>
    public async Task<CopyStatistics> RunAsync(IAsyncEnumerable<CopyRange> plan, ulong totalBytes, CancellationToken cancellationToken)
    {
        _totalBytes = totalBytes;
        _clock.Restart();
        Report(force: true); // the start: the total is known, nothing done yet
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = new CopyRangeQueue(_workers * 4);
        using var closeOnStop = linked.Token.UnsafeRegister(static q => ((CopyRangeQueue)q!).Close(), queue);

        var tasks = new List<Task> { Task.Run(() => ProduceAsync(plan, queue, linked), CancellationToken.None) };
        for (var i = 0; i < _workers; i++)
        {
            tasks.Add(Task.Run(() => WorkAsync(queue, linked), CancellationToken.None));
        }

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The failure that happened first is the cause; the others are its consequences
            // (requests cancelled, or refused by a server already failing).
            if (Volatile.Read(ref _firstFailure) is { } first)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }

            throw;
        }

        Report(force: true);
        return new CopyStatistics((ulong)_bytesCopied, (ulong)_bytesZeroed, _requests, (ulong)_plannedData, (ulong)_plannedZero);
    }

    private async Task ProduceAsync(IAsyncEnumerable<CopyRange> plan, CopyRangeQueue queue, CancellationTokenSource linked)
    {
        try
        {
            await foreach (var range in plan.WithCancellation(linked.Token).ConfigureAwait(false))
            {
                if (!await queue.AddAsync(range).ConfigureAwait(false))
                {
                    linked.Token.ThrowIfCancellationRequested(); // closed: the copy stopped
                }
            }
        }
        catch (Exception ex)
        {
            await StopAllAsync(ex, linked).ConfigureAwait(false);
            throw;
        }
        finally
        {
            queue.Complete();
        }
    }

    private async Task WorkAsync(CopyRangeQueue queue, CancellationTokenSource linked)
    {
        var source = _source;
        var target = _target;
        var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
        try
        {
            var token = linked.Token;
            while (await queue.TakeAsync().ConfigureAwait(false) is { } range)
            {
                await CopyAsync(range, source, target, buffer, token).ConfigureAwait(false);
                Interlocked.Add(ref _bytesDone, (long)range.Length);
                Report(force: false);
            }

            token.ThrowIfCancellationRequested(); // the queue was closed: the copy stopped
        }
        catch (Exception ex)
        {
            await StopAllAsync(ex, linked).ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Records the first real failure (a cancellation is a consequence, never the cause) and stops every task.</summary>
    private async Task StopAllAsync(Exception failure, CancellationTokenSource linked)
    {
        if (failure is not OperationCanceledException)
        {
            Interlocked.CompareExchange(ref _firstFailure, failure, null);
        }

        await linked.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>One range: its state machine comes from a pool, so the copy allocates nothing per range.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CopyAsync(CopyRange range, IBlockSource source, IBlockTarget target, byte[] buffer, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref range.Kind == CopyKind.Zero ? ref _plannedZero : ref _plannedData, (long)range.Length);
        if (range.Kind == CopyKind.Data)
        {
            var data = buffer.AsMemory(0, checked((int)range.Length));
            await source.ReadAsync(range.Offset, data, cancellationToken).ConfigureAwait(false);
            if (data.Span.IndexOfAnyExcept((byte)0) >= 0)
            {
                await target.WriteAsync(range.Offset, data, cancellationToken).ConfigureAwait(false);
                CountCopied(range);
                return;
            }

            if (!_targetHasBacking)
            {
                return; // No backing file: unwritten clusters already read as zeroes.
            }
        }

        // A zero range, or data that turned out all zero over a backing file: a zero write keeps the
        // overlay sparse and still masks the backing.
        await target.WriteZeroesAsync(range.Offset, checked((uint)range.Length), NbdCommandFlags.None, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _bytesZeroed, (long)range.Length);
        Interlocked.Increment(ref _requests);
    }

    private void CountCopied(CopyRange range)
    {
        Interlocked.Add(ref _bytesCopied, (long)range.Length);
        Interlocked.Increment(ref _requests);
    }

    private void Report(bool force)
    {
        if (_progress is null)
        {
            return;
        }

        var now = _clock.Elapsed.Ticks;
        var last = Interlocked.Read(ref _lastReportTicks);
        if (!force && (now - last < ReportInterval.Ticks || Interlocked.CompareExchange(ref _lastReportTicks, now, last) != last))
        {
            return;
        }

        _progress.Report(new ExportProgress(
            (ulong)Interlocked.Read(ref _bytesDone),
            _totalBytes,
            (ulong)Interlocked.Read(ref _bytesCopied),
            (ulong)Interlocked.Read(ref _bytesZeroed),
            _clock.Elapsed));
    }
}
