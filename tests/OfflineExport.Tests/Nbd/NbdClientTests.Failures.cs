using OfflineExport.Nbd;

namespace OfflineExport.Tests.Nbd;

/// <content>Error replies, broken servers, lost connections and cancellation.</content>
public partial class NbdClientTests
{
    [Fact]
    public async Task A_request_a_server_takes_only_a_trickle_of_ends_its_connection_after_the_reply_timeout()
    {
        // The target's server reads 64 KiB every 0.1 s: each send makes progress, so the socket's send
        // timeout never fires, while the WRITE of 8 MiB would take minutes.
        var failure = await LargeWriteFromTheSharedThreadFailsAsync(
            (target, token) => target.TrickleUntilClientClosesAsync(64 << 10, TimeSpan.FromSeconds(0.1), token));

        Assert.Contains("still being sent after 1 s", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Half_a_reply_with_nothing_in_flight_ends_that_connection_at_once_not_its_neighbour()
    {
        // Arrange: two connections on one reply pump; the first has nothing in flight.
        using var cts = new CancellationTokenSource(Timeout);
        using var pump = new NbdReplyPump("nbd test");
        await using var quietServer = FakeNbdServer.Start();
        await using var busyServer = FakeNbdServer.Start();
        var options = Options() with { ReplyTimeout = TimeSpan.FromSeconds(1), ReplyPump = pump };
        await using var idle = await ConnectAsync(quietServer, options, cts.Token);
        await using var busy = await ConnectAsync(busyServer, options, cts.Token);
        var destination = new byte[4096];

        // Act: the idle one's server sends the first 4 bytes of a simple reply and stops; waiting for the
        // rest would hold the shared thread with no watchdog to end it.
        await quietServer.SendRawAsync([0x67, 0x44, 0x66, 0x98], cts.Token);
        var read = busy.ReadAsync(0, destination, cts.Token).AsTask();
        var request = await busyServer.ReadRequestAsync(cts.Token);
        await busyServer.SendDataAsync(request.Cookie, 0, Pattern(4096, 3), done: true, cts.Token);

        // Assert
        await read.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Pattern(4096, 3), destination);
        var failure = await Assert.ThrowsAsync<NbdException>(() => idle.ReadAsync(0, new byte[512], cts.Token).AsTask().WaitAsync(Timeout));
        Assert.Contains("no request in flight", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_send_the_shared_reply_thread_is_held_in_ends_when_its_server_stops_reading()
    {
        // The target's server never reads. Neither watchdog sees silence while the pump's thread is held
        // in that send: the send's own timeout (or the send deadline) must end it.
        var failure = await LargeWriteFromTheSharedThreadFailsAsync((_, _) => Task.CompletedTask);

        Assert.Contains("stopped reading", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two connections on one reply pump with a 1 s reply timeout; the code awaiting a READ on the first
    /// sends a WRITE far larger than a socket buffer to the second, whose server does only what
    /// <paramref name="targetReads"/> does. Returns how the copy failed.
    /// </summary>
    private static async Task<NbdException> LargeWriteFromTheSharedThreadFailsAsync(Func<FakeNbdServer, CancellationToken, Task> targetReads)
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var pump = new NbdReplyPump("nbd test");
        var export = new FakeNbdExport { Size = 16UL << 20 };
        await using var source = FakeNbdServer.Start(export);
        await using var target = FakeNbdServer.Start(export);
        var options = Options() with { ReplyTimeout = TimeSpan.FromSeconds(1), ReplyPump = pump };
        await using var reader = await ConnectAsync(source, options, cts.Token);
        await using var writer = await ConnectAsync(target, options, cts.Token);
        using var stopTarget = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var targetReading = targetReads(target, stopTarget.Token);

        async Task ReadThenWriteAsync()
        {
            await reader.ReadAsync(0, new byte[4096], cts.Token).ConfigureAwait(false);
            await writer.WriteAsync(0, new byte[8 << 20], cts.Token).ConfigureAwait(false);
        }

        var copy = ReadThenWriteAsync();
        var request = await source.ReadRequestAsync(cts.Token);
        await source.SendDataAsync(request.Cookie, 0, Pattern(4096, 1), done: true, cts.Token);
        var failure = await Assert.ThrowsAsync<NbdException>(() => copy.WaitAsync(Timeout));
        await stopTarget.CancelAsync();
        await targetReading.WaitAsync(Timeout);
        return failure;
    }

    [Fact]
    public async Task Structured_ENOSPC_error_chunk_fails_the_write_with_its_errno()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        // Act
        var write = client.WriteAsync(4096, new byte[4096], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendErrorAsync(request.Cookie, 28, "disk quota exceeded", done: true, cts.Token);
        var error = await Assert.ThrowsAsync<NbdException>(() => write.WaitAsync(Timeout));

        // Assert
        Assert.Equal(28u, error.Errno);
        Assert.True(error.IsNoSpace);
        Assert.Contains("disk quota exceeded", error.Message);
    }

    [Fact]
    public async Task Error_offset_chunk_then_none_fails_the_read_with_its_errno()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        var read = client.ReadAsync(0, new byte[8192], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(request.Cookie, 0, new byte[4096], done: false, cts.Token);
        await server.SendErrorOffsetAsync(request.Cookie, 5, "read error", 4096, done: false, cts.Token);
        await server.SendNoneAsync(request.Cookie, cts.Token);
        var error = await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));

        Assert.Equal(5u, error.Errno);
        Assert.False(error.IsNoSpace);
    }

    [Fact]
    public async Task Simple_error_reply_to_write_fails_with_its_errno()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        var write = client.WriteAsync(0, new byte[512], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendSimpleReplyAsync(request.Cookie, 5, cts.Token); // EIO
        var error = await Assert.ThrowsAsync<NbdException>(() => write.WaitAsync(Timeout));

        Assert.Equal(5u, error.Errno);
        Assert.False(error.IsNoSpace);
    }

    [Fact]
    public async Task Unknown_error_chunk_type_fails_the_request_but_not_the_connection()
    {
        // Arrange: proto.md: an unknown type with bit 15 errors the reply; transmission MAY go on.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var write = client.WriteAsync(0, new byte[512], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        byte[] payload = [.. Wire.U32(1), .. Wire.U16(2), .. Wire.Ascii("no"), 0xee, 0xee];
        await server.SendChunkAsync(1, 0x8123, request.Cookie, payload, cts.Token);

        // Act
        var error = await Assert.ThrowsAsync<NbdException>(() => write.WaitAsync(Timeout));
        var flush = client.FlushAsync(cts.Token).AsTask();
        var flushRequest = await server.ReadRequestAsync(cts.Token);
        await server.SendSimpleReplyAsync(flushRequest.Cookie, 0, cts.Token);

        // Assert
        Assert.Equal(1u, error.Errno);
        await flush.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Reply_with_an_unknown_cookie_fails_the_connection()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[512], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);

        // Act
        await server.SendDataAsync(request.Cookie + 1000, 0, new byte[512], done: true, cts.Token);

        // Assert: the pending request fails, and so does anything sent later.
        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
        await Assert.ThrowsAsync<NbdException>(() => client.ReadAsync(0, new byte[512], cts.Token).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [InlineData(12)] // 12 of the 20 chunk header bytes
    [InlineData(100)] // the header and part of the data payload
    public async Task Truncated_reply_then_EOF_fails_the_request_instead_of_hanging(int bytesSent)
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[512], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);

        // Act: part of the reply, then hang up.
        var chunk = FakeNbdServer.ChunkBytes(1, 1, request.Cookie, [.. Wire.U64(0), .. new byte[512]]);
        await server.SendRawAsync(chunk[..bytesSent], cts.Token);
        server.CloseConnection();

        // Assert
        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Server_closing_fails_every_pending_request()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[512], cts.Token).AsTask();
        var write = client.WriteAsync(4096, new byte[512], cts.Token).AsTask();
        await server.ReadRequestAsync(cts.Token);
        await server.ReadRequestAsync(cts.Token);

        // Act
        server.CloseConnection();

        // Assert
        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
        await Assert.ThrowsAsync<NbdException>(() => write.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Block_status_for_a_context_id_that_was_not_negotiated_fails()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 11 } };
        await using var server = FakeNbdServer.Start(export);
        await using var client = await ConnectAsync(server, Options(Allocation), cts.Token);

        var status = client.BlockStatusAsync(0, 4096, cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendBlockStatusAsync(request.Cookie, 99, [(4096, 0)], done: true, cts.Token);

        await Assert.ThrowsAsync<NbdException>(() => status.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Block_status_extent_list_that_does_not_advance_fails_instead_of_looping()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 11 } };
        await using var server = FakeNbdServer.Start(export);
        await using var client = await ConnectAsync(server, Options(Allocation), cts.Token);

        // A scanner asks again from where an answer ended; an extent of length 0 would never move it on.
        var scan = client.BlockStatusAsync(0, 8192, cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendBlockStatusAsync(request.Cookie, 11, [(0, 0)], done: true, cts.Token);

        var error = await Assert.ThrowsAsync<NbdException>(() => scan.WaitAsync(Timeout));
        Assert.Contains("length 0", error.Message);
    }

    [Fact]
    public async Task Block_status_missing_a_selected_context_fails()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 11, [Bitmap] = 42 } };
        await using var server = FakeNbdServer.Start(export);
        await using var client = await ConnectAsync(server, Options(Allocation, Bitmap), cts.Token);

        var status = client.BlockStatusAsync(0, 4096, cts.Token);
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendBlockStatusAsync(request.Cookie, 11, [(4096, 0)], done: true, cts.Token);

        var error = await Assert.ThrowsAsync<NbdException>(() => status.WaitAsync(Timeout));
        Assert.Contains(Bitmap, error.Message);
    }

    [Theory]
    [InlineData(4096 + 2048, 4096)] // runs past the request's end
    [InlineData(0, 4096)] // starts before the request
    [InlineData(8192, 512)] // wholly after it
    public async Task Data_chunk_outside_the_request_fails(int chunkOffset, int chunkLength)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        var read = client.ReadAsync(4096, new byte[4096], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendDataAsync(request.Cookie, (ulong)chunkOffset, new byte[chunkLength], done: true, cts.Token);

        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Hole_chunk_outside_the_request_fails()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);

        var read = client.ReadAsync(4096, new byte[4096], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);
        await server.SendHoleAsync(request.Cookie, 4096, 8192, done: true, cts.Token);

        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Read_answered_short_fails()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[8192], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);

        // Act: only the first half is covered before DONE.
        await server.SendDataAsync(request.Cookie, 0, new byte[4096], done: false, cts.Token);
        await server.SendNoneAsync(request.Cookie, cts.Token);

        // Assert
        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Read_answered_with_the_same_range_twice_fails()
    {
        // Arrange: 2 × 4 KiB at offset 0 add up to the 8 KiB asked for, but [4 KiB, 8 KiB) was
        // never sent. proto.md: content chunks MUST NOT overlap earlier ones, and the server MUST
        // cover the whole request; a caller's buffer must never keep stale bytes as "read".
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[8192], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);

        // Act
        await server.SendDataAsync(request.Cookie, 0, Pattern(4096, 1), done: false, cts.Token);
        await server.SendDataAsync(request.Cookie, 0, Pattern(4096, 1), done: false, cts.Token);
        await server.SendNoneAsync(request.Cookie, cts.Token);

        // Assert
        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Simple_reply_to_read_fails_the_request()
    {
        // Arrange: proto.md: with structured replies negotiated the server MUST NOT use a simple
        // reply for READ (the client cannot know whether data follows).
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[512], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);

        // Act
        await server.SendSimpleReplyAsync(request.Cookie, 0, cts.Token);

        // Assert
        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Unknown_non_error_chunk_type_fails_the_connection()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[512], cts.Token).AsTask();
        var request = await server.ReadRequestAsync(cts.Token);

        await server.SendChunkAsync(1, 0x0042, request.Cookie, [], cts.Token);

        await Assert.ThrowsAsync<NbdException>(() => read.WaitAsync(Timeout));
        await Assert.ThrowsAsync<NbdException>(() => client.FlushAsync(cts.Token).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancelling_a_pending_request_throws_OperationCanceled_and_closes_the_connection()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        using var requestCts = new CancellationTokenSource();
        await using var server = FakeNbdServer.Start();
        await using var client = await ConnectAsync(server, Options(), cts.Token);
        var read = client.ReadAsync(0, new byte[512], requestCts.Token).AsTask();
        await server.ReadRequestAsync(cts.Token);

        // Act
        await requestCts.CancelAsync();

        // Assert: the request is cancelled, the connection is gone on both ends.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Timeout));
        await Assert.ThrowsAsync<NbdException>(() => client.ReadAsync(0, new byte[512], cts.Token).AsTask().WaitAsync(Timeout));
        var trailing = await server.ReadUntilClientClosesAsync(cts.Token).WaitAsync(Timeout);
        Assert.Empty(trailing);
    }
}
