namespace OfflineExport.Export;

/// <summary>
/// The planned ranges between the planner (one producer) and the copy workers (many consumers), bounded.
/// A full queue lets its producer go on only once it has drained to half, and on the thread of the worker
/// that drained it: resuming it at every range taken, on the thread pool, as a bounded channel does, would
/// wake a pool thread per request. A worker waits only when the queue is empty. No completion is made
/// while the lock is held, so whatever runs inline cannot deadlock on it.
/// </summary>
internal sealed class CopyRangeQueue
{
    private readonly Lock _gate = new();
    private readonly Queue<CopyRange> _ranges;
    private readonly Queue<TaskCompletionSource<CopyRange?>> _takers = new();
    private readonly int _capacity;
    private TaskCompletionSource<bool>? _room;
    private bool _completed;
    private bool _closed;

    /// <summary>Creates a queue of at most <paramref name="capacity"/> ranges.</summary>
    public CopyRangeQueue(int capacity)
    {
        _capacity = Math.Max(2, capacity);
        _ranges = new Queue<CopyRange>(_capacity);
    }

    /// <summary>
    /// Adds <paramref name="range"/>, waiting while the queue is full. False when the queue was closed
    /// (the copy stopped): the producer stops too.
    /// </summary>
    public ValueTask<bool> AddAsync(CopyRange range)
    {
        TaskCompletionSource<CopyRange?>? taker;
        lock (_gate)
        {
            if (_closed)
            {
                return ValueTask.FromResult(false);
            }

            if (!_takers.TryDequeue(out taker))
            {
                _ranges.Enqueue(range);
                if (_ranges.Count < _capacity)
                {
                    return ValueTask.FromResult(true);
                }

                // Resumed inline by the worker that drains the queue to half: the producer refills it
                // from that worker's thread, again with no hand-off to the thread pool.
                _room = new TaskCompletionSource<bool>();
                return new ValueTask<bool>(_room.Task);
            }
        }

        // A waiting worker takes the range directly, outside the lock (it resumes on this thread).
        taker.TrySetResult(range);
        return ValueTask.FromResult(true);
    }

    /// <summary>The next range; null once the queue is completed and empty, or closed.</summary>
    public ValueTask<CopyRange?> TakeAsync()
    {
        TaskCompletionSource<bool>? room = null;
        CopyRange range;
        lock (_gate)
        {
            if (_closed || !_ranges.TryDequeue(out range))
            {
                if (_closed || _completed)
                {
                    return ValueTask.FromResult<CopyRange?>(null);
                }

                var taker = new TaskCompletionSource<CopyRange?>();
                _takers.Enqueue(taker);
                return new ValueTask<CopyRange?>(taker.Task);
            }

            if (_room is not null && _ranges.Count <= _capacity / 2)
            {
                (room, _room) = (_room, null);
            }
        }

        room?.TrySetResult(true);
        return ValueTask.FromResult<CopyRange?>(range);
    }

    /// <summary>The producer added its last range: workers drain what is left, then get null.</summary>
    public void Complete()
    {
        List<TaskCompletionSource<CopyRange?>> idle;
        lock (_gate)
        {
            _completed = true;
            idle = [.. _takers];
            _takers.Clear();
        }

        ResumeElsewhere(idle);
    }

    /// <summary>Stops everything: waiting workers get null at once, a waiting producer false; what is queued is dropped.</summary>
    public void Close()
    {
        List<TaskCompletionSource<CopyRange?>> idle;
        TaskCompletionSource<bool>? room;
        lock (_gate)
        {
            _closed = true;
            _ranges.Clear();
            idle = [.. _takers];
            _takers.Clear();
            (room, _room) = (_room, null);
        }

        ResumeElsewhere(idle);
        if (room is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static r => r.TrySetResult(false), room, preferLocal: false);
        }
    }

    /// <summary>
    /// Ends the waits of idle workers on the thread pool: <see cref="Close"/> runs inside a cancellation
    /// (Ctrl-C's signal thread), which must not run the copy's unwinding.
    /// </summary>
    private static void ResumeElsewhere(List<TaskCompletionSource<CopyRange?>> idle)
    {
        foreach (var taker in idle)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static t => t.TrySetResult(null), taker, preferLocal: false);
        }
    }
}
