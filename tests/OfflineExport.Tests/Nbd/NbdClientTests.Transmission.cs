using OfflineExport.Nbd;

namespace OfflineExport.Tests.Nbd;

/// <content>Requests answered correctly: reassembly, cookies, writes, block status, disconnect.</content>
public partial class NbdClientTests
{
    [Fact]
    public async Task Read_sends_a_READ_request_for_the_destination_range()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var destination = new byte[4096];

        // Act
        var read = client.ReadAsync(65536, destination, cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(request.Cookie, request.Offset, Pattern(4096, 1), done: true, cts.Token);
        await read.WaitAsync(Timeout);

        // Assert
        Assert.Equal(FakeNbdRequest.Read, request.Type);
        Assert.Equal(0, request.Flags);
        Assert.Equal(65536UL, request.Offset);
        Assert.Equal(4096u, request.Length);
        Assert.Equal(Pattern(4096, 1), destination);
    }

    [Fact]
    public async Task The_code_awaiting_a_reply_resumes_on_the_connections_reader_thread()
    {
        // Arrange: the copy's next request must leave from the thread that received the reply, with no
        // hand-off to the thread pool (docs/PERFORMANCE.md); a pool thread here would mean one is back.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var destination = new byte[4096];

        async Task<(string? Name, bool FromPool)> ReadAndSeeWhereItResumedAsync()
        {
            await client.ReadAsync(0, destination, cts.Token).ConfigureAwait(false);
            return (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread);
        }

        // Act
        var read = ReadAndSeeWhereItResumedAsync();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(request.Cookie, request.Offset, Pattern(4096, 7), done: true, cts.Token);
        var (name, fromPool) = await read.WaitAsync(Timeout);

        // Assert
        Assert.Equal($"nbd {ExportName}", name);
        Assert.False(fromPool);
        Assert.Equal(Pattern(4096, 7), destination);
    }

    [Fact]
    public async Task Time_spent_in_the_code_awaiting_a_reply_is_not_taken_for_server_silence()
    {
        // Arrange: a 1 s reply timeout, and code awaiting the first READ that holds the reader thread for
        // 2.5 s (as a progress line blocked on a stalled terminal would), while the server has answered both.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options() with { ReplyTimeout = TimeSpan.FromSeconds(1) }, cts.Token);
        var first = new byte[4096];
        var second = new byte[4096];

        async Task ReadThenHoldTheThreadAsync()
        {
            await client.ReadAsync(0, first, cts.Token).ConfigureAwait(false);
            Thread.Sleep(TimeSpan.FromSeconds(2.5));
        }

        // Act
        var slow = ReadThenHoldTheThreadAsync();
        var other = client.ReadAsync(4096, second, cts.Token).AsTask();
        foreach (var request in new[] { await server.ReadRequestAsync(cts.Token), await server.ReadRequestAsync(cts.Token) }.OrderBy(r => r.Offset))
        {
            await server.SendDataAsync(request.Cookie, request.Offset, Pattern(4096, (int)(request.Offset / 4096) + 1), done: true, cts.Token);
        }

        // Assert: both succeed; the second reply was read once the thread was free again.
        await slow.WaitAsync(Timeout);
        await other.WaitAsync(Timeout);
        Assert.Equal(Pattern(4096, 2), second);
    }

    [Fact]
    public async Task Read_is_assembled_from_data_and_hole_chunks_in_any_order()
    {
        // Arrange: destination full of garbage, so a hole that is not zero-filled shows.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var destination = Enumerable.Repeat((byte)0xcc, 3 * 4096).ToArray();
        var first = Pattern(4096, 1);
        var third = Pattern(4096, 3);

        // Act: third block, then the hole in the middle, then the first block, then NONE.
        var read = client.ReadAsync(8192, destination, cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(request.Cookie, 8192 + 8192, third, done: false, cts.Token);
        await server.SendHoleAsync(request.Cookie, 8192 + 4096, 4096, done: false, cts.Token);
        await server.SendDataAsync(request.Cookie, 8192, first, done: false, cts.Token);
        await server.SendNoneAsync(request.Cookie, cts.Token);
        await read.WaitAsync(Timeout);

        // Assert
        Assert.Equal(first, destination[..4096]);
        Assert.Equal(new byte[4096], destination[4096..8192]);
        Assert.Equal(third, destination[8192..]);
    }

    [Fact]
    public async Task Two_requests_in_flight_answered_out_of_order_are_matched_by_cookie()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var bufferA = new byte[512];
        var bufferB = new byte[1024];

        // Act: A at 0, B at 4096; the server answers B first, then A in two chunks around B's.
        var readA = client.ReadAsync(0, bufferA, cts.Token).AsTask();
        var requestA = await server.ReadRequestAsync(cts.Token);
        var readB = client.ReadAsync(4096, bufferB, cts.Token).AsTask();
        var requestB = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(requestA.Cookie, 0, Pattern(256, 0xa0), done: false, cts.Token);
        await server.SendDataAsync(requestB.Cookie, 4096, Pattern(1024, 0xb0), done: true, cts.Token);
        await readB.WaitAsync(Timeout);
        var aDoneEarly = readA.IsCompleted;
        await server.SendDataAsync(requestA.Cookie, 256, Pattern(256, 0xa1), done: true, cts.Token);
        await readA.WaitAsync(Timeout);

        // Assert
        Assert.NotEqual(requestA.Cookie, requestB.Cookie);
        Assert.False(aDoneEarly);
        Assert.Equal(Pattern(1024, 0xb0), bufferB);
        Assert.Equal([.. Pattern(256, 0xa0), .. Pattern(256, 0xa1)], bufferA);
    }

    [Fact]
    public async Task Write_sends_header_then_payload_and_completes_on_a_simple_reply()
    {
        // Arrange: qemu answers a successful WRITE with a simple reply even with structured replies on.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var data = Pattern(2048, 7);

        // Act
        var write = client.WriteAsync(1UL << 19, data, cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendSimpleReplyAsync(request.Cookie, 0, cts.Token);
        await write.WaitAsync(Timeout);

        // Assert
        Assert.Equal(FakeNbdRequest.Write, request.Type);
        Assert.Equal(1UL << 19, request.Offset);
        Assert.Equal(2048u, request.Length);
        Assert.Equal(data, request.Payload);
    }

    [Fact]
    public async Task Write_zeroes_and_flush_carry_their_types_flags_and_ranges()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        // Act
        var zeroes = client.WriteZeroesAsync(8192, 65536, NbdCommandFlags.NoHole, cts.Token).AsTask();
        var zeroRequest = await server.ReadRequestAsync(cts.Token);
        await server.SendSimpleReplyAsync(zeroRequest.Cookie, 0, cts.Token);
        await zeroes.WaitAsync(Timeout);
        var flush = client.FlushAsync(cts.Token).AsTask();
        var flushRequest = await server.ReadRequestAsync(cts.Token);
        await server.SendNoneAsync(flushRequest.Cookie, cts.Token);
        await flush.WaitAsync(Timeout);

        // Assert: WRITE_ZEROES 6 with NO_HOLE (2) and no payload; FLUSH 3 with offset and length 0.
        Assert.Equal((6, 2, 8192UL, 65536u), ((int)zeroRequest.Type, (int)zeroRequest.Flags, zeroRequest.Offset, zeroRequest.Length));
        Assert.Empty(zeroRequest.Payload);
        Assert.Equal((3, 0, 0UL, 0u), ((int)flushRequest.Type, (int)flushRequest.Flags, flushRequest.Offset, flushRequest.Length));
    }

    [Fact]
    public async Task Block_status_returns_extents_per_context_clamped_to_the_request()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 11, [Bitmap] = 42 } };
        await using var server = FakeNbdServer.Start(export);
        await using var client = await ConnectAsync(server, Options(Allocation, Bitmap), cts.Token);

        // Act: request [64 KiB, +12 KiB); the bitmap's last extent runs 4 KiB past the end.
        var status = client.BlockStatusAsync(0x10000, 0x3000, cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendBlockStatusAsync(request.Cookie, 42, [(0x2000, 1), (0x2000, 0)], done: false, cts.Token);
        await server.SendBlockStatusAsync(request.Cookie, 11, [(0x1000, 0), (0x2000, 3)], done: true, cts.Token);
        var result = await status.WaitAsync(Timeout);

        // Assert
        Assert.Equal((7, 0x10000UL, 0x3000u), ((int)request.Type, request.Offset, request.Length));
        Assert.Equal([new NbdExtent(0x10000, 0x1000, 0), new NbdExtent(0x11000, 0x2000, 3)], result[Allocation]);
        Assert.Equal([new NbdExtent(0x10000, 0x2000, 1), new NbdExtent(0x12000, 0x1000, 0)], result[Bitmap]);
    }

    [Fact]
    public async Task Error_reply_fails_only_its_request_and_the_connection_stays_usable()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var write = client.WriteAsync(0, new byte[512], cts.Token).AsTask();
        var writeRequest = await server.ReadRequestAsync(cts.Token);
        await server.SendErrorAsync(writeRequest.Cookie, 28, "No space left on device", done: true, cts.Token);
        await Assert.ThrowsAsync<NbdException>(() => write.WaitAsync(Timeout));

        // Act
        var flush = client.FlushAsync(cts.Token).AsTask();
        var flushRequest = await server.ReadRequestAsync(cts.Token);
        await server.SendSimpleReplyAsync(flushRequest.Cookie, 0, cts.Token);

        // Assert
        await flush.WaitAsync(Timeout);
        Assert.True(flush.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Disconnect_sends_DISC_with_zero_offset_and_length()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        // Act: like qemu, the server closes as soon as it sees DISC.
        var disconnect = client.DisconnectAsync(cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        server.CloseConnection();
        await disconnect.WaitAsync(Timeout);

        // Assert
        Assert.Equal(FakeNbdRequest.Disconnect, request.Type);
        Assert.Equal(0, request.Flags);
        Assert.Equal(0UL, request.Offset);
        Assert.Equal(0u, request.Length);
    }

    [Fact]
    public async Task Disconnect_closes_from_the_client_side_when_the_server_keeps_the_connection_open()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        // Act: the server reads DISC but never closes; the goodbye must still end, without an error.
        var disconnect = client.DisconnectAsync(cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await disconnect.WaitAsync(Timeout);

        // Assert
        Assert.Equal(FakeNbdRequest.Disconnect, request.Type);
        Assert.True(disconnect.IsCompletedSuccessfully);
        await Assert.ThrowsAsync<NbdException>(() => client.FlushAsync(cts.Token).AsTask());
    }

    [Fact]
    public async Task Read_larger_than_the_maximum_block_size_is_refused_before_sending()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start(new FakeNbdExport { MaximumBlockSize = 65536 });
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        // Act
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ReadAsync(0, new byte[65537], cts.Token).AsTask().WaitAsync(Timeout));
        var read = client.ReadAsync(0, new byte[65536], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendHoleAsync(request.Cookie, 0, 65536, done: true, cts.Token);
        await read.WaitAsync(Timeout);

        // Assert: the first request on the wire is the allowed one.
        Assert.Equal(65536u, request.Length);
    }

    private static byte[] Pattern(int length, int seed) =>
        [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31) + seed))];
}
