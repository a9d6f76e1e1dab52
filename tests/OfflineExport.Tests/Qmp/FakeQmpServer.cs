using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using OfflineExport.Tests.Support;

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

    private readonly UnixSocketPeer _peer;
    private StreamReader? _reader;

    private FakeQmpServer(UnixSocketPeer peer) => _peer = peer;

    /// <summary>The path to give <c>QmpClient.ConnectAsync</c>.</summary>
    public string SocketPath => _peer.SocketPath;

    private NetworkStream Stream => _peer.Stream;

    /// <summary>Listens on a fresh unix socket in a unique temp folder.</summary>
    public static FakeQmpServer Start() => new(UnixSocketPeer.Listen("oe-qmp-test-", "qmp.sock"));

    /// <summary>Accepts the one client connection.</summary>
    public async Task AcceptAsync(CancellationToken cancellationToken)
    {
        var stream = await _peer.AcceptAsync(cancellationToken);
        _reader = new StreamReader(stream, new UTF8Encoding(false));
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
        _peer.CloseConnection();
    }

    public ValueTask DisposeAsync()
    {
        _reader?.Dispose();
        return _peer.DisposeAsync();
    }
}
