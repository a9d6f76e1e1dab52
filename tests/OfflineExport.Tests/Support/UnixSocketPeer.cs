using System.Net.Sockets;

namespace OfflineExport.Tests.Support;

/// <summary>
/// The server end of a test conversation: listens on a unix socket in a private temp folder, accepts
/// one client, and can hang up like a dying server. Disposing removes the folder.
/// </summary>
internal sealed class UnixSocketPeer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Socket _listener;
    private Socket? _connection;
    private NetworkStream? _stream;

    private UnixSocketPeer(string directory, Socket listener, string socketPath)
    {
        _directory = directory;
        _listener = listener;
        SocketPath = socketPath;
    }

    /// <summary>The socket's path, for the client.</summary>
    public string SocketPath { get; }

    /// <summary>The accepted connection's stream.</summary>
    public NetworkStream Stream => _stream ?? throw new InvalidOperationException("no client connected yet");

    /// <summary>Listens on <paramref name="socketName"/> in a new folder named after <paramref name="prefix"/>.</summary>
    public static UnixSocketPeer Listen(string prefix, string socketName)
    {
        var directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var socketPath = Path.Combine(directory, socketName);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);
        }
        catch
        {
            listener.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }

        return new UnixSocketPeer(directory, listener, socketPath);
    }

    /// <summary>Accepts the one client connection.</summary>
    public async Task<NetworkStream> AcceptAsync(CancellationToken cancellationToken)
    {
        _connection = await _listener.AcceptAsync(cancellationToken);
        _stream = new NetworkStream(_connection, ownsSocket: false);
        return _stream;
    }

    /// <summary>Hangs up, as a server that dies or closes would.</summary>
    public void CloseConnection()
    {
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

    /// <summary>Hangs up, stops listening, removes the folder.</summary>
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
