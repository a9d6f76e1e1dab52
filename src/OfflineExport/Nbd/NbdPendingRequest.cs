using System.Threading.Tasks.Sources;

namespace OfflineExport.Nbd;

/// <summary>
/// A request waiting for its reply, keyed by its cookie. Used again for later requests of its connection
/// (<see cref="NbdPendingTable.Rent"/>), so the copy allocates nothing per request: its completion is a
/// <see cref="ValueTask"/> over this object, valid until <see cref="Reset"/>.
/// </summary>
internal sealed class NbdPendingRequest : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _completion;
    private int _completed;

    public NbdPendingRequest(NbdCommandType type, ulong offset, uint length, Memory<byte> destination) =>
        Reset(type, offset, length, destination);

    /// <summary>Makes this the record of a new request; the previous one must have been awaited to its end.</summary>
    public void Reset(NbdCommandType type, ulong offset, uint length, Memory<byte> destination)
    {
        Type = type;
        Offset = offset;
        Length = length;
        Destination = destination;
        Covered = 0;
        _covered?.Clear();
        Error = null;
        Extents = null;
        _completion.Reset();
        _completed = 0;
    }

    public NbdCommandType Type { get; private set; }

    public ulong Offset { get; private set; }

    public uint Length { get; private set; }

    public ulong End => Offset + Length;

    /// <summary>Where READ data goes: OFFSET_DATA chunks are received straight into it.</summary>
    public Memory<byte> Destination { get; private set; }

    /// <summary>True when a chunk [<paramref name="offset"/>, +<paramref name="length"/>) would be the whole answer.</summary>
    public bool IsWholeAnswer(ulong offset, ulong length) => Covered == 0 && offset == Offset && length == Length;

    /// <summary>READ bytes covered by data and hole chunks so far.</summary>
    public ulong Covered { get; private set; }

    /// <summary>
    /// Records that a data or hole chunk covered [<paramref name="offset"/>, +<paramref name="length"/>);
    /// false when it overlaps an earlier chunk (chunks may arrive in any order but never overlap, so
    /// a plain byte count could be fooled by a repeated chunk into accepting a buffer with a gap).
    /// </summary>
    public bool TryCover(ulong offset, ulong length)
    {
        _covered ??= [];
        var end = offset + length;
        var index = _covered.BinarySearch((offset, end), ByStart);
        if (index >= 0)
        {
            return false;
        }

        index = ~index;
        if ((index > 0 && _covered[index - 1].End > offset) || (index < _covered.Count && _covered[index].Start < end))
        {
            return false;
        }

        _covered.Insert(index, (offset, end));
        Covered += length;
        return true;
    }

    /// <summary>The first error chunk the server sent; the request fails with it once DONE arrives.</summary>
    public NbdException? Error { get; set; }

    /// <summary>BLOCK_STATUS extents by context id.</summary>
    public Dictionary<uint, List<NbdExtent>>? Extents { get; set; }

    /// <summary>
    /// Completed by the reply pump's thread, and the code awaiting it runs there, inline: the copy's next step
    /// (the WRITE of the data just read, the READ of the next range) is sent straight from the thread that
    /// received the reply, with no hand-off to the thread pool and no thread woken for it. That code must
    /// never wait for this connection's replies. It may send: a send waits only for its server to read,
    /// which qemu does while it has fewer than 16 requests (the copy keeps fewer in flight); replies of
    /// this connection wait meanwhile, and the watchdog does not count that time as the server's.
    /// </summary>
    public ValueTask Completion => new(this, _completion.Version);

    /// <summary>Completes the request; false if it was completed already (the first outcome stands).</summary>
    public bool TrySetResult()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        _completion.SetResult(true);
        return true;
    }

    /// <summary>Fails the request with <paramref name="failure"/>; false if it was completed already.</summary>
    public bool TrySetException(Exception failure)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        _completion.SetException(failure);
        return true;
    }

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    private static readonly Comparer<(ulong Start, ulong End)> ByStart = Comparer<(ulong Start, ulong End)>.Create((x, y) => x.Start.CompareTo(y.Start));

    private List<(ulong Start, ulong End)>? _covered;
}
