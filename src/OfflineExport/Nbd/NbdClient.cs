using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>
/// An NBD client written from the protocol document: fixed-newstyle handshake with structured
/// replies and metadata contexts, then READ, WRITE, WRITE_ZEROES, FLUSH, BLOCK_STATUS and DISC.
/// Many requests may be in flight: senders write requests one at a time; the thread of an
/// <see cref="NbdReplyPump"/> (of its own, or shared with the other connections of a copy) matches replies
/// to requests by cookie. When the connection ends, every pending request fails with the cause.
/// The socket only ever sees blocking calls, and what awaits a reply resumes on the pump's thread
/// (<see cref="NbdPendingRequest.Completion"/>): a copy's read reply and its write go out from one thread,
/// with no socket event thread and no thread-pool hand-off in between (docs/PERFORMANCE.md).
/// Cancelling any request aborts the whole connection (a request on the wire cannot be recalled,
/// and its reply might otherwise land in a buffer the caller has already reused).
/// </summary>
public sealed class NbdClient : IAsyncDisposable, IBlockSource, IBlockTarget
{
    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly NetworkStream _stream;
    private readonly NbdClientOptions _options;
    private readonly Lock _sendLock = new();
    private readonly SemaphoreSlim _inFlight;
    private readonly NbdPendingTable _pending = new();
    private readonly byte[] _requestHeader = new byte[NbdProtocol.RequestLength];
    private readonly NbdReceiveBuffer _receive;
    private IReadOnlyDictionary<uint, string> _contextNames = new Dictionary<uint, string>();
    private NbdReplyReader? _reader;
    private readonly TaskCompletionSource _readerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NbdReplyPump? _pump;
    private Timer? _watchdog;
    private volatile bool _disconnecting;
    private int _disposed;
    private long _sendStarted;

    private NbdClient(Socket socket, NbdClientOptions options)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _receive = new NbdReceiveBuffer(socket);
        _options = options;
        _inFlight = new SemaphoreSlim(Math.Max(1, options.MaxInFlight));
    }

    /// <summary>What the server told about the export.</summary>
    public NbdExportInfo Export { get; private set; } = null!;

    /// <summary>Connects to the unix socket at <paramref name="socketPath"/>, negotiates and enters transmission.</summary>
    public static async Task<NbdClient> ConnectUnixAsync(string socketPath, NbdClientOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // Never an asynchronous call on this socket: after one, .NET keeps it non-blocking for good and
            // routes every later blocking call through its socket event thread. A unix connect waits only
            // when the server's backlog is full (a wedged daemon): the send timeout bounds that wait.
            // It also bounds every later send: a server that takes nothing of a request for that long
            // stopped reading (the watchdog's send deadline covers one that reads a trickle).
            socket.SendTimeout = options.ReplyTimeout is { } timeout ? (int)Math.Ceiling(timeout.TotalMilliseconds) : 0;
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new NbdException($"NBD: cannot connect to {socketPath}: {ex.Message}", ex);
        }

        return await ConnectAsync(socket, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Negotiates over <paramref name="socket"/>, connected with blocking calls only (see
    /// <see cref="ConnectUnixAsync"/>); the client owns it afterwards. The handshake runs on a pool thread.
    /// </summary>
    private static async Task<NbdClient> ConnectAsync(Socket socket, NbdClientOptions options, CancellationToken cancellationToken)
    {
        var client = new NbdClient(socket, options);
        using var handshakeDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.ReplyTimeout is { } timeout)
        {
            handshakeDeadline.CancelAfter(timeout);
        }

        try
        {
            using (handshakeDeadline.Token.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket))
            {
                (client.Export, var contexts) = await Task.Run(() => NbdHandshake.Run(client._stream, options), CancellationToken.None).ConfigureAwait(false);
                client._contextNames = contexts;
            }

            // The deadline may have closed the socket just after the handshake finished.
            handshakeDeadline.Token.ThrowIfCancellationRequested();

            client._pump = options.ReplyPump ?? new NbdReplyPump($"nbd {options.ExportName}");
            var reader = new NbdReplyReader(client._receive, client._pending, client._contextNames, () => client._disconnecting);
            client._pump.Add(socket, reader, client.OnRepliesEnded);
            client._reader = reader; // only once served: it is what DisposeAsync waits for
            if (options.ReplyTimeout is { } replyTimeout)
            {
                var period = TimeSpan.FromMilliseconds(Math.Clamp(replyTimeout.TotalMilliseconds / 4, 50, 1000));
                client._watchdog = new Timer(static s => ((NbdClient)s!).CheckProgress(), client, period, period);
            }

            return client;
        }
        catch (Exception ex) when (handshakeDeadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new NbdException($"NBD: the server did not finish the handshake within {options.ReplyTimeout!.Value.TotalSeconds:0.#} s", ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new NbdException(ex is EndOfStreamException
                ? "NBD: server closed the connection during the handshake"
                : $"NBD: connection lost during the handshake: {ex.Message}", ex);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes the connection at once; requests in flight fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort(new NbdException("NBD: connection closed by the client"));
        if (_watchdog is not null)
        {
            await _watchdog.DisposeAsync().ConfigureAwait(false);
        }

        if (_reader is not null)
        {
            await _readerDone.Task.ConfigureAwait(false);
        }
        else if (OwnsPump)
        {
            _pump?.Dispose(); // never served this connection
        }

        _receive.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    /// <summary>
    /// Ends the connection: the first failure wins as the cause every pending request sees.
    /// Shutting the socket down ends its replies; the pump then fails what is pending and closes it.
    /// </summary>
    private void Abort(Exception cause)
    {
        _pending.Fail(cause);

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        // Once its pump serves it, the socket is closed when the pump lets it go: closing it here would
        // wait for that, and from the pump's own thread (a failed send in code it runs) for ever.
        if (_reader is null)
        {
            _socket.Close();
        }
    }

    /// <summary>The watchdog's tick: requests in flight and nothing received for the reply timeout ends the connection.</summary>
    private void CheckProgress()
    {
        if (_reader is not { } reader)
        {
            return;
        }

        // A request still going out after the timeout: the server takes its bytes too slowly, or not at
        // all (the send timeout only ends a send that makes no progress for that long). Checked first: the
        // thread held in that send may be the pump's, which makes the reply checks below stand down.
        var timeout = _options.ReplyTimeout!.Value;
        var sending = Volatile.Read(ref _sendStarted);
        if (sending != 0 && Environment.TickCount64 - sending > (long)timeout.TotalMilliseconds)
        {
            Abort(new NbdException($"NBD: a request was still being sent after {timeout.TotalSeconds:0.#} s; the server stopped reading"));
            return;
        }

        if (!_pending.IsWaiting || reader.IsRunningCallerCode || _pump!.IsServingOtherThan(reader))
        {
            // Idle time is no silence: the clock starts when requests are out. Nor is the time the
            // pump's thread spends running the code that awaited a reply, or serving another connection
            // (it reads on afterwards; a send it is held in is covered above).
            reader.MarkIdle();
            return;
        }

        if (Environment.TickCount64 - reader.LastProgress > (long)timeout.TotalMilliseconds)
        {
            Abort(new NbdException($"NBD: no reply from the server for {timeout.TotalSeconds:0.#} s with requests in flight; it stopped answering"));
        }
    }

    /// <summary>The pump's word that the connection ended, for whatever reason: every pending request fails and the socket closes.</summary>
    private void OnRepliesEnded(Exception? cause)
    {
        _pending.FailAll(cause ?? new NbdException("NBD: connection closed"));
        try
        {
            _socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        if (OwnsPump)
        {
            _pump!.Dispose();
        }

        _readerDone.TrySetResult();
    }

    /// <summary>True when this connection's replies have a pump of their own, which ends with it.</summary>
    private bool OwnsPump => _options.ReplyPump is null;

    /// <summary>How long to wait for the server to close after DISC before closing from this side.</summary>
    private static readonly TimeSpan DisconnectGrace = TimeSpan.FromSeconds(5);

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; hole chunks become zeroes.</summary>
    public ValueTask ReadAsync(ulong offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var length = CheckPayloadLength(destination.Length);
        return SubmitAsync(NbdCommandType.Read, NbdCommandFlags.None, offset, length, default, destination, cancellationToken);
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public ValueTask WriteAsync(ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var length = CheckPayloadLength(data.Length);
        return SubmitAsync(NbdCommandType.Write, NbdCommandFlags.None, offset, length, data, default, cancellationToken);
    }

    /// <summary>Writes <paramref name="length"/> zero bytes at <paramref name="offset"/> without a payload.</summary>
    public ValueTask WriteZeroesAsync(ulong offset, uint length, NbdCommandFlags flags, CancellationToken cancellationToken)
    {
        if (!Export.CanWriteZeroes)
        {
            throw new NbdException($"NBD: export '{Export.Name}' does not support WRITE_ZEROES");
        }

        return SubmitAsync(NbdCommandType.WriteZeroes, flags, offset, length, default, default, cancellationToken);
    }

    /// <summary>Asks the server to make every write answered so far durable.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (!Export.CanFlush)
        {
            throw new NbdException($"NBD: export '{Export.Name}' does not support FLUSH");
        }

        return SubmitAsync(NbdCommandType.Flush, NbdCommandFlags.None, 0, 0, default, default, cancellationToken);
    }

    /// <summary>
    /// Queries every selected metadata context over [<paramref name="offset"/>, +<paramref name="length"/>).
    /// The answer may cover less than asked (ask again from where it ended); extents never run past the request.
    /// </summary>
    public async Task<NbdBlockStatus> BlockStatusAsync(ulong offset, uint length, CancellationToken cancellationToken)
    {
        if (_contextNames.Count == 0)
        {
            throw new InvalidOperationException("BLOCK_STATUS needs metadata contexts selected at connect time");
        }

        if (length == 0 || offset + length > Export.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"block status range {offset}+{length} is outside the {Export.Size}-byte export");
        }

        var request = _pending.Rent(NbdCommandType.BlockStatus, offset, length, default);
        var byName = new Dictionary<string, IReadOnlyList<NbdExtent>>();
        try
        {
            await SendAndWaitAsync(request, NbdCommandFlags.None, default, cancellationToken).ConfigureAwait(false);
            foreach (var (id, extents) in request.Extents ?? [])
            {
                byName[_contextNames[id]] = extents;
            }
        }
        finally
        {
            _pending.Return(request);
        }

        foreach (var wanted in _options.MetaContexts)
        {
            if (!byName.ContainsKey(wanted))
            {
                throw new NbdException($"NBD: server sent no extents for context '{wanted}' at offset {offset}");
            }
        }

        return new NbdBlockStatus(byName);
    }

    /// <summary>
    /// Ends the session politely: sends DISC (which has no reply) once nothing is in flight and waits
    /// for the server to close. qemu drops requests still in flight at DISC, so callers finish first.
    /// </summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        if (!_pending.IsEmpty)
        {
            throw new InvalidOperationException("NBD: requests are still in flight");
        }

        _pending.ThrowIfFailed();
        _disconnecting = true;
        lock (_sendLock)
        {
            try
            {
                NbdTransmissionCodec.EncodeRequest(_requestHeader, NbdCommandFlags.None, NbdCommandType.Disconnect, _pending.NextCookie(), 0, 0);
                _stream.Write(_requestHeader);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // The server is gone already: nothing left to say goodbye to.
            }
        }

        // The server answers DISC by closing. Everything was flushed before, so a server slow to close
        // (a busy machine) is no failure: after a grace period the socket is simply closed from here.
        try
        {
            await _readerDone.Task.WaitAsync(DisconnectGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    private uint CheckPayloadLength(int length)
    {
        if (length <= 0 || (uint)length > Export.MaximumBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"request of {length} bytes: the server accepts 1 to {Export.MaximumBlockSize}");
        }

        return (uint)length;
    }

    /// <summary>One request without a result beyond success: its record is used again afterwards, and its state machine comes from a pool (no allocation per request on the copy path).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SubmitAsync(NbdCommandType type, NbdCommandFlags flags, ulong offset, uint length, ReadOnlyMemory<byte> payload, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var request = _pending.Rent(type, offset, length, destination);
        try
        {
            await SendAndWaitAsync(request, flags, payload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.Return(request);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAndWaitAsync(NbdPendingRequest request, NbdCommandFlags flags, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        _pending.ThrowIfFailed();
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Registered before its bytes hit the wire: the reply may beat Send's return.
            var cookie = _pending.Add(request);

            using (cancellationToken.UnsafeRegister(static (s, ct) => ((NbdClient)s!).Abort(new OperationCanceledException(ct)), this))
            {
                Send(flags, request.Type, cookie, request.Offset, request.Length, payload.Span);
                await request.Completion.ConfigureAwait(false);
            }
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>
    /// Sends one request, blocking until the kernel took all of it (a payload larger than the socket's
    /// buffer waits for the server to read). The wait ends with the socket's send timeout (no progress),
    /// the watchdog's send deadline (too little progress) or a cancellation, all of which end the connection.
    /// </summary>
    private void Send(NbdCommandFlags flags, NbdCommandType type, ulong cookie, ulong offset, uint length, ReadOnlySpan<byte> payload)
    {
        lock (_sendLock)
        {
            Volatile.Write(ref _sendStarted, Environment.TickCount64);
            try
            {
                // Header and payload are never interleaved with another request's bytes.
                NbdTransmissionCodec.EncodeRequest(_requestHeader, flags, type, cookie, offset, length);
                SocketSend.All(_handle, _requestHeader);
                if (!payload.IsEmpty)
                {
                    SocketSend.All(_handle, payload);
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException)
            {
                // The reader sees the broken socket too and fails this request with the first cause.
                Abort(ex is TimeoutException
                    ? new NbdException($"NBD: the server took nothing of a request for {_options.ReplyTimeout?.TotalSeconds:0.#} s; it stopped reading", ex)
                    : new NbdException($"NBD: connection lost while sending: {ex.Message}", ex));
            }
            finally
            {
                Volatile.Write(ref _sendStarted, 0);
            }
        }
    }
}
