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

        Assert.Equal("NBD: no reply for 60 s", (await Assert.ThrowsAsync<NbdException>(() => first.Completion.Task)).Message);
        Assert.Equal("NBD: no reply for 60 s", (await Assert.ThrowsAsync<NbdException>(() => second.Completion.Task)).Message);
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

        await Assert.ThrowsAsync<OperationCanceledException>(() => request.Completion.Task);
        Assert.StartsWith("NBD: connection is closed: cancelled", Assert.Throws<NbdException>(table.ThrowIfFailed).Message, StringComparison.Ordinal);
    }
}
