namespace OfflineExport.Nbd;

/// <summary>
/// The requests of one connection waiting for their replies, by cookie, and the connection's first
/// failure. The sender registers a request before its bytes hit the wire; the reader finds and takes it
/// when its reply comes. The first failure wins: it is what every pending and later request fails with.
/// </summary>
internal sealed class NbdPendingTable
{
    private readonly Dictionary<ulong, NbdPendingRequest> _requests = [];
    private readonly Stack<NbdPendingRequest> _spare = new();
    private readonly Lock _gate = new();
    private ulong _nextCookie;
    private Exception? _failure;

    /// <summary>True when requests are out and the connection has not failed (the watchdog's question).</summary>
    public bool IsWaiting
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count > 0 && _failure is null;
            }
        }
    }

    /// <summary>True when no request is waiting for a reply.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _requests.Count == 0;
            }
        }
    }

    /// <summary>
    /// A request record for a new request: one that an earlier request gave back, else a new one. The
    /// copy keeps a bounded number in flight, so the spares stay as few.
    /// </summary>
    public NbdPendingRequest Rent(NbdCommandType type, ulong offset, uint length, Memory<byte> destination)
    {
        NbdPendingRequest? spare;
        lock (_gate)
        {
            _spare.TryPop(out spare);
        }

        if (spare is null)
        {
            return new NbdPendingRequest(type, offset, length, destination);
        }

        spare.Reset(type, offset, length, destination);
        return spare;
    }

    /// <summary>
    /// Gives back a request whose completion was awaited to its end: nothing refers to it any more (the
    /// table let go of it before completing it).
    /// </summary>
    public void Return(NbdPendingRequest request)
    {
        request.Reset(default, 0, 0, default); // drops the caller's buffer and any error
        lock (_gate)
        {
            _spare.Push(request);
        }
    }

    /// <summary>Registers <paramref name="request"/> under a new cookie; throws the connection's failure if it has one.</summary>
    public ulong Add(NbdPendingRequest request)
    {
        lock (_gate)
        {
            ThrowIfFailed();
            var cookie = _nextCookie++;
            _requests.Add(cookie, request);
            return cookie;
        }
    }

    /// <summary>A cookie for a request that gets no reply (DISC).</summary>
    public ulong NextCookie()
    {
        lock (_gate)
        {
            return _nextCookie++;
        }
    }

    /// <summary>The request waiting under <paramref name="cookie"/>, still pending (more chunks may follow).</summary>
    public NbdPendingRequest Find(ulong cookie)
    {
        lock (_gate)
        {
            return _requests.TryGetValue(cookie, out var request) ? request : throw UnknownCookie(cookie);
        }
    }

    /// <summary>Removes and returns the request waiting under <paramref name="cookie"/> (its reply is complete).</summary>
    public NbdPendingRequest Take(ulong cookie)
    {
        lock (_gate)
        {
            return _requests.Remove(cookie, out var request) ? request : throw UnknownCookie(cookie);
        }
    }

    /// <summary>Records <paramref name="cause"/> as the connection's failure unless one came first.</summary>
    public void Fail(Exception cause)
    {
        lock (_gate)
        {
            _failure ??= cause;
        }
    }

    /// <summary>Records <paramref name="cause"/> (unless a failure came first) and fails every pending request with the first failure.</summary>
    public void FailAll(Exception cause)
    {
        List<NbdPendingRequest> orphans;
        Exception failure;
        lock (_gate)
        {
            failure = _failure ??= cause;
            orphans = [.. _requests.Values];
            _requests.Clear();
        }

        // A cancellation that aborted the connection is reported as such, not as the socket error.
        foreach (var request in orphans)
        {
            request.TrySetException(failure);
        }
    }

    /// <summary>Throws the connection's failure, as an <see cref="NbdException"/> unless it was a cancellation's.</summary>
    public void ThrowIfFailed()
    {
        var failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            throw failure as NbdException ?? new NbdException($"NBD: connection is closed: {failure.Message}", failure);
        }
    }

    private static NbdException UnknownCookie(ulong cookie) => new($"NBD: reply for unknown cookie {cookie}");
}
