using System.Net.Sockets;

namespace OfflineExport.Nbd;

/// <summary>
/// An NBD client written from the protocol document: fixed-newstyle handshake with structured
/// replies and metadata contexts, then READ, WRITE, WRITE_ZEROES, FLUSH, BLOCK_STATUS and DISC.
/// Many requests may be in flight: one serialized sender writes requests, one reader loop matches
/// replies to requests by cookie. When the loop dies, every pending request fails with the cause.
/// Cancelling any request aborts the whole connection (a request on the wire cannot be recalled,
/// and its reply might otherwise land in a buffer the caller has already reused).
/// </summary>
public sealed partial class NbdClient : IAsyncDisposable, IBlockSource, IBlockTarget
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly NbdClientOptions _options;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _inFlight;
    private readonly Dictionary<ulong, NbdPendingRequest> _pending = [];
    private readonly byte[] _requestHeader = new byte[NbdProtocol.RequestLength];
    private Dictionary<uint, string> _contextNames = [];
    private Task _readLoop = Task.CompletedTask;
    private readonly NbdReceiveBuffer _receive;
    private Exception? _failure;
    private Timer? _watchdog;
    private long _lastProgress = Environment.TickCount64;
    private ulong _nextCookie;
    private volatile bool _disconnecting;
    private int _disposed;

    private NbdClient(Socket socket, NbdClientOptions options)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _receive = new NbdReceiveBuffer(_stream);
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
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new NbdException($"NBD: cannot connect to {socketPath}: {ex.Message}", ex);
        }

        return await ConnectAsync(socket, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Negotiates over an already connected <paramref name="socket"/>; the client owns it afterwards.</summary>
    public static async Task<NbdClient> ConnectAsync(Socket socket, NbdClientOptions options, CancellationToken cancellationToken)
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
                await client.HandshakeAsync(handshakeDeadline.Token).ConfigureAwait(false);
            }

            client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
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

        await _readLoop.ConfigureAwait(false);
        _receive.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    /// <summary>
    /// Ends the connection: the first failure wins as the cause every pending request sees.
    /// Closing the socket stops the reader loop, which then fails what is pending.
    /// </summary>
    private void Abort(Exception cause)
    {
        lock (_pending)
        {
            _failure ??= cause;
        }

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

        _socket.Close();
    }

    /// <summary>The watchdog's tick: requests in flight and nothing received for the reply timeout ends the connection.</summary>
    private void CheckProgress()
    {
        bool waiting;
        lock (_pending)
        {
            waiting = _pending.Count > 0 && _failure is null;
        }

        var now = Environment.TickCount64;
        if (!waiting)
        {
            // Idle time is no silence: the clock starts when requests are out.
            Volatile.Write(ref _lastProgress, now);
            return;
        }

        var timeout = _options.ReplyTimeout!.Value;
        if (now - Volatile.Read(ref _lastProgress) > (long)timeout.TotalMilliseconds)
        {
            Abort(new NbdException($"NBD: no reply from the server for {timeout.TotalSeconds:0.#} s with requests in flight; it stopped answering"));
        }
    }

    private void ThrowIfFailed()
    {
        var failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            throw failure as NbdException ?? new NbdException($"NBD: connection is closed: {failure.Message}", failure);
        }
    }
}
