using System.Diagnostics;
using System.Net.Sockets;
using OfflineExport.Nbd;

namespace OfflineExport.Tests.Nbd;

/// <summary>The direct <c>send(2)</c> / <c>recv(2)</c> calls of the NBD transport, on real unix sockets.</summary>
public sealed class SocketCallTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("socket-calls-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_send_to_a_peer_that_never_reads_ends_with_a_timeout_once_the_send_timeout_passes()
    {
        // Arrange
        var (client, server) = Pair();
        using (client)
        using (server)
        {
            client.SendTimeout = 200;
            var stopwatch = Stopwatch.StartNew();

            // Act: far more than the socket buffers hold, and nobody reads.
            var failure = Record.Exception(() => SocketSend.All(client.SafeHandle, new byte[64 << 20]));

            // Assert: the timeout, not a hang and not a connection error; at most twice the timeout (a
            // send that moved some bytes waits once more for the rest).
            Assert.IsType<TimeoutException>(failure);
            Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public void A_send_to_a_closed_peer_fails_as_a_broken_connection_without_a_signal()
    {
        var (client, server) = Pair();
        using (client)
        {
            server.Dispose();

            // MSG_NOSIGNAL: without it SIGPIPE would end the test process here.
            var failure = Assert.Throws<IOException>(() =>
            {
                for (var i = 0; i < 64; i++)
                {
                    SocketSend.All(client.SafeHandle, new byte[1 << 20]);
                }
            });

            Assert.Contains("pipe", failure.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void A_receive_returns_what_arrived_and_then_zero_at_the_end_of_the_stream()
    {
        var (client, server) = Pair();
        using (client)
        {
            using (server)
            {
                server.Send([1, 2, 3]);
            }

            var buffer = new byte[4096];
            var first = SocketReceive.Some(client.SafeHandle, buffer);
            var after = SocketReceive.Some(client.SafeHandle, buffer);

            Assert.Equal(3, first);
            Assert.Equal([1, 2, 3], buffer[..3]);
            Assert.Equal(0, after);
        }
    }

    [Fact]
    public void A_call_on_a_closed_socket_is_refused_as_disposed()
    {
        var (client, server) = Pair();
        using (server)
        {
            client.Dispose();

            Assert.Throws<ObjectDisposedException>(() => SocketSend.All(client.SafeHandle, new byte[16]));
            Assert.Throws<ObjectDisposedException>(() => SocketReceive.Some(client.SafeHandle, new byte[16]));
        }
    }

    /// <summary>A connected pair of blocking unix stream sockets.</summary>
    private (Socket Client, Socket Server) Pair()
    {
        var endpoint = new UnixDomainSocketEndPoint(Path.Combine(_folder, $"s{Guid.NewGuid():N}"[..12]));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(endpoint);
        return (client, listener.Accept());
    }
}
