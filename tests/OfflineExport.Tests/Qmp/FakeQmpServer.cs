using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace OfflineExport.Tests.Qmp;

/// <summary>
/// A tiny scripted QMP monitor on a unix socket in a private temp folder: one JSON object per
/// line each way (qemu's qmp-spec). It accepts one connection; the test sends the greeting,
/// reads commands and writes replies and events in whatever order it wants.
/// </summary>
internal sealed class FakeQmpServer : IAsyncDisposable
{
    /// <summary>The greeting of qemu 7.2 (shape as printed by qemu-storage-daemon).</summary>
    public const string Greeting =
        """{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"}, "capabilities": ["oob"]}}""";

    private readonly string _directory;
    private readonly Socket _listener;
    private Socket? _connection;
    private NetworkStream? _stream;
    private StreamReader? _reader;

    private FakeQmpServer(string directory, Socket listener)
    {
        _directory = directory;
        _listener = listener;
        SocketPath = Path.Combine(directory, "qmp.sock");
    }

    /// <summary>The path to give <c>QmpClient.ConnectAsync</c>.</summary>
    public string SocketPath { get; }

    private NetworkStream Stream => _stream ?? throw new InvalidOperationException("no client connected yet");

    /// <summary>Listens on a fresh unix socket in a unique temp folder.</summary>
    public static FakeQmpServer Start()
    {
        var directory = Path.Combine(Path.GetTempPath(), "oe-qmp-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(directory, "qmp.sock")));
            listener.Listen(1);
        }
        catch
        {
            listener.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }

        return new FakeQmpServer(directory, listener);
    }

    /// <summary>Accepts the one client connection.</summary>
    public async Task AcceptAsync(CancellationToken cancellationToken)
    {
        _connection = await _listener.AcceptAsync(cancellationToken);
        _stream = new NetworkStream(_connection, ownsSocket: false);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    /// <summary>
    /// Accepts, greets, and answers <c>qmp_capabilities</c> with an empty return carrying its id;
    /// returns the capabilities command as received.
    /// </summary>
    public async Task<JsonObject> AcceptAndNegotiateAsync(CancellationToken cancellationToken)
    {
        await AcceptAsync(cancellationToken);
        await SendLineAsync(Greeting, cancellationToken);
        var command = await ReadCommandAsync(cancellationToken)
            ?? throw new EndOfStreamException("client closed before qmp_capabilities");
        if ((string?)command["execute"] != "qmp_capabilities")
        {
            throw new InvalidDataException($"expected qmp_capabilities first, got {command.ToJsonString()}");
        }

        await ReturnAsync(command, new JsonObject(), cancellationToken);
        return command;
    }

    /// <summary>Reads one command line as a JSON object, or null when the client closed the connection.</summary>
    public async Task<JsonObject?> ReadCommandAsync(CancellationToken cancellationToken)
    {
        var reader = _reader ?? throw new InvalidOperationException("no client connected yet");
        var line = await reader.ReadLineAsync(cancellationToken);
        if (line is null)
        {
            return null;
        }

        return JsonNode.Parse(line) as JsonObject
            ?? throw new InvalidDataException($"command is not a JSON object: {line}");
    }

    /// <summary>Answers <paramref name="command"/> with <c>{"return": value, "id": its id}</c>.</summary>
    public Task ReturnAsync(JsonObject command, JsonNode value, CancellationToken cancellationToken)
    {
        var reply = new JsonObject { ["return"] = value, ["id"] = command["id"]?.DeepClone() };
        return SendLineAsync(reply.ToJsonString(), cancellationToken);
    }

    /// <summary>Answers <paramref name="command"/> with <c>{"error": {"class", "desc"}, "id": its id}</c>.</summary>
    public Task ErrorAsync(JsonObject command, string errorClass, string description, CancellationToken cancellationToken)
    {
        var reply = new JsonObject
        {
            ["id"] = command["id"]?.DeepClone(),
            ["error"] = new JsonObject { ["class"] = errorClass, ["desc"] = description },
        };
        return SendLineAsync(reply.ToJsonString(), cancellationToken);
    }

    /// <summary>Sends an event with a qemu-style timestamp.</summary>
    public Task EventAsync(string name, JsonObject? data, long seconds, long microseconds, CancellationToken cancellationToken)
    {
        var message = new JsonObject
        {
            ["timestamp"] = new JsonObject { ["seconds"] = seconds, ["microseconds"] = microseconds },
            ["event"] = name,
        };
        if (data is not null)
        {
            message["data"] = data;
        }

        return SendLineAsync(message.ToJsonString(), cancellationToken);
    }

    /// <summary>Writes one line (a newline is appended).</summary>
    public async Task SendLineAsync(string json, CancellationToken cancellationToken) =>
        await Stream.WriteAsync(Encoding.UTF8.GetBytes(json + "\n"), cancellationToken);

    /// <summary>Closes the connection as a dying qemu would.</summary>
    public void CloseConnection()
    {
        _reader?.Dispose();
        _stream?.Dispose();
        if (_connection is not null)
        {
            try
            {
                _connection.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            _connection.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        CloseConnection();
        _listener.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
