using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace OfflineExport.Qmp;

/// <summary>
/// A QMP client over a unix socket, after QEMU's own python client: read the greeting, send
/// <c>qmp_capabilities</c>, then one reader loop matches replies to commands by id and puts
/// events on their own channel. When the connection ends, every pending command fails with the cause.
/// A monitor that opens twice (a race in qemu between a connection its main loop accepts and the monitor
/// attaching its handlers; <see cref="Qemu.StorageDaemon"/> starts the daemon so that it cannot happen) greets
/// twice and falls back to capabilities negotiation; a command it then refuses for that reason never ran, so
/// it is sent again after a new <c>qmp_capabilities</c>.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private const string CapabilitiesCommand = "qmp_capabilities";

    /// <summary>How often one command may find the monitor reset to negotiation before the refusal is reported.</summary>
    private const int MaximumNegotiations = 3;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly StreamReader _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, QmpPendingCommand> _pending = new();
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>();
    private readonly Action<string>? _log;
    private readonly TimeSpan? _replyTimeout;
    private readonly CancellationTokenSource _shutdown = new();
    private Task _readLoop = Task.CompletedTask;
    private Exception? _failure;
    private long _nextId;
    private int _disposed;

    private QmpClient(Socket socket, Action<string>? log, TimeSpan? replyTimeout)
    {
        _replyTimeout = replyTimeout;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
        _log = log;
    }

    /// <summary>The greeting the server sent.</summary>
    public QmpGreeting Greeting { get; private set; } = new("unknown", []);

    /// <summary>Events in arrival order.</summary>
    public ChannelReader<QmpEvent> Events => _events.Reader;

    /// <summary>Connects to the QMP socket at <paramref name="socketPath"/> and negotiates capabilities.</summary>
    /// <param name="socketPath">The unix socket of the monitor.</param>
    /// <param name="log">Receives every message sent and received (for <c>--verbose</c>), or null.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <param name="replyTimeout">How long a command may wait for its reply (null: for ever); a server that stops answering is reported, not waited on.</param>
    public static async Task<QmpClient> ConnectAsync(string socketPath, Action<string>? log, CancellationToken cancellationToken, TimeSpan? replyTimeout = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        QmpClient? client = null;
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
            client = new QmpClient(socket, log, replyTimeout);
            var first = await client.ReadMessageAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new QmpProtocolException("QMP: connection closed before the greeting");
            client.Greeting = first as QmpGreeting
                ?? throw new QmpProtocolException($"QMP: expected a greeting, got {first switch { QmpEvent e => $"the event {e.Name}", QmpErrorReply => "an error reply", _ => "a command's reply" }}");
            client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
            await client.SendAsync(CapabilitiesCommand, null, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> and returns its "return" value.</summary>
    /// <exception cref="QmpException">The server answered with an error.</exception>
    /// <exception cref="QmpProtocolException">The connection broke or the reply was malformed.</exception>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await SendAsync(command, arguments, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpException ex) when (IsNegotiationRefusal(ex) && attempt < MaximumNegotiations)
            {
                // The monitor was reset to negotiation under us (it greeted again): the command did not run.
                _log?.Invoke($"qmp: {command} was refused until capabilities are negotiated again (the monitor opened twice); negotiating and sending it again");
                await RenegotiateAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>qemu's refusal of any command but <c>qmp_capabilities</c> while it negotiates; such a command was not run.</summary>
    public static bool IsNegotiationRefusal(QmpException error) =>
        error.ErrorClass == "CommandNotFound"
        && error.Description.StartsWith("Expecting capabilities negotiation", StringComparison.Ordinal);

    /// <summary>Negotiates capabilities again; a monitor that was not reset says so, and that is fine too.</summary>
    private async Task RenegotiateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(CapabilitiesCommand, null, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpException ex) when (ex.ErrorClass == "CommandNotFound" && ex.Description.StartsWith("Capabilities negotiation is already complete", StringComparison.Ordinal))
        {
            // Negotiated already: the refusal came from a reset that another command's renegotiation undid.
        }
    }

    private async Task<JsonNode?> SendAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        var id = "oe-" + Interlocked.Increment(ref _nextId);
        var pending = new QmpPendingCommand(command);
        // Register before the bytes hit the wire: the reply may arrive before SendAsync returns.
        _pending[id] = pending;
        try
        {
            if (_failure is { } failure)
            {
                throw new QmpProtocolException($"QMP connection is closed: {failure.Message}", failure);
            }

            var bytes = QmpCodec.EncodeCommand(id, command, arguments);
            _log?.Invoke("qmp → " + Encoding.UTF8.GetString(bytes).TrimEnd());
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new QmpProtocolException($"QMP: cannot send {command}: {ex.Message}", ex);
            }
            finally
            {
                _sendLock.Release();
            }

            try
            {
                return await pending.Completion.Task.WaitAsync(_replyTimeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new QmpProtocolException($"QMP: no reply to {command} within {_replyTimeout!.Value.TotalSeconds:0.#} s; the daemon stopped answering", ex);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Waits for the next event called <paramref name="name"/>, skipping others.</summary>
    public async Task<QmpEvent> WaitForEventAsync(string name, CancellationToken cancellationToken)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_events.Reader.TryRead(out var ev))
            {
                if (ev.Name == name)
                {
                    return ev;
                }
            }
        }

        throw new QmpProtocolException($"QMP connection closed while waiting for event {name}");
    }

    /// <summary>Closes the connection; pending commands fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
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

        _socket.Dispose();
        await _readLoop.ConfigureAwait(false);
        _reader.Dispose();
        _sendLock.Dispose();
        _shutdown.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        Exception cause;
        try
        {
            while (true)
            {
                var message = await ReadMessageAsync(_shutdown.Token).ConfigureAwait(false);
                if (message is null)
                {
                    cause = new QmpProtocolException("QMP connection closed by the server");
                    break;
                }

                Dispatch(message);
            }
        }
        catch (OperationCanceledException)
        {
            cause = new QmpProtocolException("QMP connection closed");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            cause = new QmpProtocolException($"QMP connection lost: {ex.Message}", ex);
        }
        catch (QmpProtocolException ex)
        {
            cause = ex;
        }

        _failure = cause;
        _events.Writer.TryComplete();
        foreach (var pending in _pending.Values)
        {
            pending.Completion.TrySetException(cause);
        }
    }

    private void Dispatch(QmpMessage message)
    {
        switch (message)
        {
            case QmpGreeting:
                // The monitor opened again and reset negotiation (see the class summary). Commands it refuses
                // for that reason are sent again after a new qmp_capabilities (ExecuteAsync).
                _log?.Invoke("qmp: a second greeting (the monitor opened twice); commands refused until negotiation are sent again");
                break;
            case QmpEvent ev:
                _events.Writer.TryWrite(ev);
                break;
            case QmpReturn { Id: { } id } ret when _pending.TryGetValue(id, out var pending):
                pending.Completion.TrySetResult(ret.Value);
                break;
            case QmpErrorReply { Id: { } id } err when _pending.TryGetValue(id, out var pending):
                pending.Completion.TrySetException(new QmpException(pending.Command, err.ErrorClass, err.Description));
                break;
            case QmpReturn or QmpErrorReply { Id: not null }:
                // A reply to a command whose caller gave up (cancelled): nobody waits for it.
                _log?.Invoke("qmp: reply for a command nobody waits for");
                break;
            case QmpErrorReply { Id: null } err:
                // QEMU answers a command it could not parse (so without an id) this way.
                throw new QmpProtocolException($"QMP: server rejected a message: {err.Description}");
            default:
                throw new QmpProtocolException($"QMP: unexpected message {message}");
        }
    }

    private async Task<QmpMessage?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (line is null)
        {
            return null;
        }

        _log?.Invoke("qmp ← " + line);
        return QmpCodec.Decode(line);
    }
}
