using OfflineExport.Nbd;

namespace OfflineExport.Tests.Nbd;

/// <content>Zero-copy forwarding: READ payloads spliced into a pipe and WRITE payloads out of it.</content>
public partial class NbdClientTests
{
    private const ushort DontFragmentFlags = FakeNbdExport.DefaultTransmissionFlags | (1 << 7);

    [Fact]
    public async Task Read_into_a_pipe_then_write_from_it_forwards_the_payload_unchanged()
    {
        // Arrange: a payload much larger than the client's 64 KiB receive buffer, so most of it is spliced.
        using var cts = new CancellationTokenSource(Timeout);
        var data = new byte[384 << 10];
        new Random(5).NextBytes(data);
        await using var source = FakeNbdServer.Start(new FakeNbdExport { TransmissionFlags = DontFragmentFlags });
        await using var target = FakeNbdServer.Start();
        await using var reader = await ConnectAsync(source, Options(), cts.Token);
        await using var writer = await ConnectAsync(target, Options(), cts.Token);
        using var pipe = SplicePipe.TryCreate(data.Length, out var reason) ?? throw new InvalidOperationException(reason);
        var fallback = new byte[data.Length];

        // Act
        var read = reader.ReadToPipeAsync(1 << 20, (uint)data.Length, pipe, fallback, cts.Token);
        var readRequest = await source.ReadRequestAsync(cts.Token);
        await source.SendDataAsync(readRequest.Cookie, 1 << 20, data, done: true, cts.Token);
        var where = await read.WaitAsync(Timeout);
        var write = writer.WriteFromPipeAsync(1 << 20, pipe, cts.Token);
        var writeRequest = await target.ReadRequestAsync(cts.Token);
        await target.SendSimpleReplyAsync(writeRequest.Cookie, 0, cts.Token);
        await write.WaitAsync(Timeout);

        // Assert
        Assert.Equal(NbdPipedRead.InPipe, where);
        Assert.Equal(1 << 2, readRequest.Flags); // NBD_CMD_FLAG_DF: one chunk, so it can go to the pipe
        Assert.Equal(1UL << 20, writeRequest.Offset);
        Assert.Equal(data, writeRequest.Payload);
        Assert.Equal(0, fallback.Count(b => b != 0)); // nothing passed through memory
    }

    [Fact]
    public async Task Read_into_a_pipe_answered_in_two_chunks_lands_in_the_fallback_buffer()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        using var pipe = SplicePipe.TryCreate(8192, out var reason) ?? throw new InvalidOperationException(reason);
        var fallback = new byte[8192];

        // Act: the server ignores "do not fragment" (it was not even advertised) and splits the reply.
        var read = client.ReadToPipeAsync(0, 8192, pipe, fallback, cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(request.Cookie, 4096, Enumerable.Repeat((byte)0xbb, 4096).ToArray(), done: false, cts.Token);
        await server.SendDataAsync(request.Cookie, 0, Enumerable.Repeat((byte)0xaa, 4096).ToArray(), done: true, cts.Token);
        var where = await read.WaitAsync(Timeout);

        // Assert
        Assert.Equal(NbdPipedRead.InBuffer, where);
        Assert.Equal(0, request.Flags);
        Assert.All(fallback[..4096], b => Assert.Equal(0xaa, b));
        Assert.All(fallback[4096..], b => Assert.Equal(0xbb, b));
    }

    [Fact]
    public async Task Read_into_a_pipe_answered_with_one_hole_reports_a_hole()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start(new FakeNbdExport { TransmissionFlags = DontFragmentFlags });
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        using var pipe = SplicePipe.TryCreate(65536, out var reason) ?? throw new InvalidOperationException(reason);

        // Act
        var read = client.ReadToPipeAsync(65536, 65536, pipe, new byte[65536], cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendHoleAsync(request.Cookie, 65536, 65536, done: true, cts.Token);
        var where = await read.WaitAsync(Timeout);

        // Assert
        Assert.Equal(NbdPipedRead.Hole, where);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.WriteFromPipeAsync(0, pipe, cts.Token)); // empty pipe: nothing to write
    }

    [Fact]
    public async Task Read_into_a_pipe_refuses_a_payload_larger_than_the_pipe_carries()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        using var pipe = SplicePipe.TryCreate(65536, out var reason) ?? throw new InvalidOperationException(reason);

        // Act + Assert: refused before anything is sent.
        await Assert.ThrowsAsync<ArgumentException>(() => client.ReadToPipeAsync(0, (uint)pipe.MaxPayload + 4096, pipe, new byte[pipe.MaxPayload + 4096], cts.Token));
    }
}
