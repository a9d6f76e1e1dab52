using OfflineExport.Nbd;

namespace OfflineExport.Tests.Nbd;

public sealed class NbdPendingTableTests
{
    [Fact]
    public async Task The_first_failure_fails_every_pending_request_and_every_later_one()
    {
        var table = new NbdPendingTable();
        var first = new NbdPendingRequest(NbdCommandType.Read, 0, 4096, new byte[4096]);
        var second = new NbdPendingRequest(NbdCommandType.Write, 4096, 4096, default);
        table.Add(first);
        table.Add(second);

        table.Fail(new NbdException("NBD: no reply for 60 s"));
        table.FailAll(new NbdException("NBD: connection lost: Broken pipe"));

        Assert.Equal("NBD: no reply for 60 s", (await Assert.ThrowsAsync<NbdException>(() => first.Completion.AsTask())).Message);
        Assert.Equal("NBD: no reply for 60 s", (await Assert.ThrowsAsync<NbdException>(() => second.Completion.AsTask())).Message);
        Assert.True(table.IsEmpty);
        Assert.False(table.IsWaiting);
        Assert.Equal("NBD: no reply for 60 s", Assert.Throws<NbdException>(() => table.Add(new NbdPendingRequest(NbdCommandType.Flush, 0, 0, default))).Message);
    }

    [Fact]
    public void Cookies_are_unique_and_a_reply_to_an_unknown_cookie_is_a_violation()
    {
        var table = new NbdPendingTable();
        var request = new NbdPendingRequest(NbdCommandType.Flush, 0, 0, default);

        var cookie = table.Add(request);
        var disconnect = table.NextCookie();

        Assert.NotEqual(cookie, disconnect);
        Assert.True(table.IsWaiting);
        Assert.Same(request, table.Find(cookie));
        Assert.Same(request, table.Take(cookie));
        Assert.Contains($"unknown cookie {cookie}", Assert.Throws<NbdException>(() => table.Take(cookie)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancellation_that_aborted_the_connection_reaches_pending_requests_as_itself()
    {
        var table = new NbdPendingTable();
        var request = new NbdPendingRequest(NbdCommandType.Read, 0, 512, new byte[512]);
        table.Add(request);

        table.Fail(new OperationCanceledException("cancelled"));
        table.FailAll(new NbdException("NBD: connection lost"));

        await Assert.ThrowsAsync<OperationCanceledException>(() => request.Completion.AsTask());
        Assert.StartsWith("NBD: connection is closed: cancelled", Assert.Throws<NbdException>(table.ThrowIfFailed).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_returned_request_record_is_used_again_clean_and_its_old_completion_is_dead()
    {
        // Arrange: a READ that failed with an error chunk and covered part of its buffer.
        var table = new NbdPendingTable();
        var first = table.Rent(NbdCommandType.Read, 0, 4096, new byte[4096]);
        var cookie = table.Add(first);
        Assert.True(first.TryCover(0, 512));
        first.Error = new NbdException("NBD: READ at offset 0 failed: EIO");
        var stale = first.Completion;
        Assert.Same(first, table.Take(cookie));
        Assert.True(first.TrySetException(first.Error));
        Assert.False(first.TrySetResult()); // the first outcome stands
        await Assert.ThrowsAsync<NbdException>(async () => await first.Completion);

        // Act
        table.Return(first);
        var second = table.Rent(NbdCommandType.Write, 8192, 512, default);

        // Assert: the same record, with nothing of the first request left in it.
        Assert.Same(first, second);
        Assert.Equal((NbdCommandType.Write, 8192UL, 512U, 0UL), (second.Type, second.Offset, second.Length, second.Covered));
        Assert.Null(second.Error);
        Assert.True(second.Destination.IsEmpty);
        Assert.True(second.TryCover(0, 512));
        Assert.Throws<InvalidOperationException>(() => stale.GetAwaiter().GetResult());
        Assert.True(second.TrySetResult());
        await second.Completion;
    }

    [Fact]
    public void Records_in_use_are_never_handed_out_twice()
    {
        var table = new NbdPendingTable();
        var inUse = Enumerable.Range(0, 8).Select(i => table.Rent(NbdCommandType.Read, (ulong)i * 4096, 4096, new byte[4096])).ToList();
        table.Return(inUse[3]);

        var next = table.Rent(NbdCommandType.Read, 0, 4096, new byte[4096]);
        var fresh = table.Rent(NbdCommandType.Read, 0, 4096, new byte[4096]);

        Assert.Same(inUse[3], next);
        Assert.DoesNotContain(fresh, inUse);
    }
}
