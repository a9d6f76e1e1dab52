using System.Text.Json.Nodes;
using OfflineExport.Qmp;

namespace OfflineExport.Tests.Qmp;

/// <summary>QmpClient against <see cref="FakeQmpServer"/>; every await is bounded by <see cref="Timeout"/>.</summary>
public class QmpClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>qemu 7.2's words (monitor/qmp.c) for a command sent while it negotiates capabilities.</summary>
    private const string NegotiationRefusal = "Expecting capabilities negotiation with 'qmp_capabilities'";

    /// <summary>Connects to <paramref name="server"/>, runs query-status while its <paramref name="script"/> plays, and returns the status once the script is done.</summary>
    private static async Task<JsonNode?> QueryStatusAsync(FakeQmpServer server, Task script, CancellationToken cancellationToken)
    {
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, null, cancellationToken).WaitAsync(Timeout);
        var status = await client.ExecuteAsync("query-status", null, cancellationToken).WaitAsync(Timeout);
        await script.WaitAsync(Timeout);
        return status;
    }

    [Fact]
    public async Task Connect_reads_the_greeting_and_negotiates_capabilities()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var negotiation = server.AcceptAndNegotiateAsync(cts.Token);

        // Act
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token).WaitAsync(Timeout);
        var capabilities = await negotiation.WaitAsync(Timeout);

        // Assert
        Assert.Equal("7.2.0", client.Greeting.Version);
        Assert.Equal(["oob"], client.Greeting.Capabilities);
        Assert.Equal("qmp_capabilities", (string?)capabilities["execute"]);
        Assert.False(string.IsNullOrEmpty((string?)capabilities["id"]));
        Assert.False(capabilities.ContainsKey("arguments"));
    }

    [Fact]
    public async Task A_second_greeting_before_the_capabilities_reply_is_the_same_opening_and_the_session_works()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAsync(cts.Token);
                await server.SendLineAsync(FakeQmpServer.Greeting, cts.Token);
                var capabilities = await server.ReadCommandAsync(cts.Token);
                await server.SendLineAsync(FakeQmpServer.Greeting, cts.Token);
                await server.ReturnAsync(capabilities!, new JsonObject(), cts.Token);
                var next = await server.ReadCommandAsync(cts.Token);
                await server.ReturnAsync(next!, new JsonObject { ["status"] = "running" }, cts.Token);
            },
            cts.Token);

        var status = await QueryStatusAsync(server, script, cts.Token);

        Assert.Equal("running", (string?)status!["status"]);
    }

    [Fact]
    public async Task A_command_refused_after_a_second_greeting_is_sent_again_after_a_new_negotiation()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var seen = new List<string>();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAndNegotiateAsync(cts.Token);
                var first = await server.ReadCommandAsync(cts.Token);
                seen.Add((string)first!["execute"]!);
                // qemu 7.2: the monitor opens again, greets, and refuses everything but qmp_capabilities.
                await server.SendLineAsync(FakeQmpServer.Greeting, cts.Token);
                await server.ErrorAsync(first, "CommandNotFound", NegotiationRefusal, cts.Token);
                var capabilities = await server.ReadCommandAsync(cts.Token);
                seen.Add((string)capabilities!["execute"]!);
                await server.ReturnAsync(capabilities, new JsonObject(), cts.Token);
                var again = await server.ReadCommandAsync(cts.Token);
                seen.Add((string)again!["execute"]!);
                await server.ReturnAsync(again, new JsonObject { ["status"] = "running" }, cts.Token);
            },
            cts.Token);

        var status = await QueryStatusAsync(server, script, cts.Token);

        Assert.Equal("running", (string?)status!["status"]);
        Assert.Equal(["query-status", "qmp_capabilities", "query-status"], seen);
    }

    [Fact]
    public async Task A_renegotiation_the_monitor_calls_needless_still_sends_the_command_again()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAndNegotiateAsync(cts.Token);
                var first = await server.ReadCommandAsync(cts.Token);
                await server.ErrorAsync(first!, "CommandNotFound", NegotiationRefusal, cts.Token);
                var capabilities = await server.ReadCommandAsync(cts.Token);
                await server.ErrorAsync(capabilities!, "CommandNotFound", "Capabilities negotiation is already complete, command ignored", cts.Token);
                var again = await server.ReadCommandAsync(cts.Token);
                await server.ReturnAsync(again!, new JsonObject { ["status"] = "running" }, cts.Token);
            },
            cts.Token);

        var status = await QueryStatusAsync(server, script, cts.Token);

        Assert.Equal("running", (string?)status!["status"]);
    }

    [Fact]
    public async Task A_monitor_that_keeps_refusing_until_negotiation_is_reported_after_three_tries()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var tries = 0;
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAndNegotiateAsync(cts.Token);
                while (await server.ReadCommandAsync(cts.Token) is { } command)
                {
                    if ((string?)command["execute"] == "qmp_capabilities")
                    {
                        await server.ReturnAsync(command, new JsonObject(), cts.Token);
                    }
                    else
                    {
                        tries++;
                        await server.ErrorAsync(command, "CommandNotFound", NegotiationRefusal, cts.Token);
                    }
                }
            },
            cts.Token);

        await using var client = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token).WaitAsync(Timeout);
        var error = await Assert.ThrowsAsync<QmpException>(() => client.ExecuteAsync("query-status", null, cts.Token).WaitAsync(Timeout));

        await client.DisposeAsync(); // the script's read then ends
        await script.WaitAsync(Timeout);

        Assert.Equal(3, tries);
        Assert.True(QmpClient.IsNegotiationRefusal(error));
    }

    [Fact]
    public async Task Other_refusals_are_never_sent_again()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAndNegotiateAsync(cts.Token);
                var first = await server.ReadCommandAsync(cts.Token);
                await server.ErrorAsync(first!, "CommandNotFound", "The command frobnicate has not been found", cts.Token);
                return await server.ReadCommandAsync(cts.Token);
            },
            cts.Token);

        await using var client = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token).WaitAsync(Timeout);
        var error = await Assert.ThrowsAsync<QmpException>(() => client.ExecuteAsync("frobnicate", null, cts.Token).WaitAsync(Timeout));
        await client.DisposeAsync();

        Assert.False(QmpClient.IsNegotiationRefusal(error));
        Assert.Null(await script.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Connect_fails_when_qmp_capabilities_is_refused()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAsync(cts.Token);
                await server.SendLineAsync(FakeQmpServer.Greeting, cts.Token);
                var command = await server.ReadCommandAsync(cts.Token);
                await server.ErrorAsync(command!, "CommandNotFound", "Capabilities negotiation is already complete", cts.Token);
            },
            cts.Token);

        var error = await Assert.ThrowsAsync<QmpException>(
            () => QmpClient.ConnectAsync(server.SocketPath, null, cts.Token).WaitAsync(Timeout));

        await script.WaitAsync(Timeout);
        Assert.Equal("CommandNotFound", error.ErrorClass);
    }

    [Fact]
    public async Task Connect_fails_when_the_server_closes_before_the_greeting()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAsync(cts.Token);
                server.CloseConnection();
            },
            cts.Token);

        await Assert.ThrowsAsync<QmpProtocolException>(
            () => QmpClient.ConnectAsync(server.SocketPath, null, cts.Token).WaitAsync(Timeout));
        await script.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Command_gets_the_return_that_carries_its_id()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        // Act
        var execute = client.ExecuteAsync("query-block-exports", null, cts.Token);
        var command = await server.ReadCommandAsync(cts.Token);
        await server.ReturnAsync(command!, JsonNode.Parse("""[{"id": "exp0", "node-name": "top"}]""")!, cts.Token);
        var result = await execute.WaitAsync(Timeout);

        // Assert
        Assert.Equal("query-block-exports", (string?)command!["execute"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"id": "exp0", "node-name": "top"}]"""), result));
    }

    [Fact]
    public async Task Command_arguments_reach_the_server()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        var execute = client.ExecuteAsync("block-export-del", new JsonObject { ["id"] = "exp0" }, cts.Token);
        var command = await server.ReadCommandAsync(cts.Token);
        await server.ReturnAsync(command!, new JsonObject(), cts.Token);
        await execute.WaitAsync(Timeout);

        Assert.True(JsonNode.DeepEquals(new JsonObject { ["id"] = "exp0" }, command!["arguments"]));
    }

    [Fact]
    public async Task Error_reply_throws_QmpException_with_class_and_description()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        // Act
        var execute = client.ExecuteAsync("blockdev-add", new JsonObject { ["node-name"] = "n0" }, cts.Token);
        var command = await server.ReadCommandAsync(cts.Token);
        await server.ErrorAsync(command!, "GenericError", "Could not open '/nope': No such file or directory", cts.Token);
        var error = await Assert.ThrowsAsync<QmpException>(() => execute.WaitAsync(Timeout));

        // Assert
        Assert.Equal("blockdev-add", error.Command);
        Assert.Equal("GenericError", error.ErrorClass);
        Assert.Equal("Could not open '/nope': No such file or directory", error.Description);
    }

    [Fact]
    public async Task Event_goes_to_the_events_channel_with_its_data_and_timestamp()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        // Act: 1700000000 s after the epoch is 2023-11-14 22:13:20 UTC.
        await server.EventAsync("BLOCK_EXPORT_DELETED", new JsonObject { ["id"] = "exp0" }, 1700000000, 250000, cts.Token);
        var ev = await client.Events.ReadAsync(cts.Token).AsTask().WaitAsync(Timeout);

        // Assert
        Assert.Equal("BLOCK_EXPORT_DELETED", ev.Name);
        Assert.Equal("exp0", (string?)ev.Data?["id"]);
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, 250, TimeSpan.Zero), ev.Timestamp);
    }

    [Fact]
    public async Task Event_arriving_before_a_reply_does_not_disturb_the_command()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        var execute = client.ExecuteAsync("block-export-del", new JsonObject { ["id"] = "exp0" }, cts.Token);
        var command = await server.ReadCommandAsync(cts.Token);
        await server.EventAsync("BLOCK_EXPORT_DELETED", new JsonObject { ["id"] = "exp0" }, 1, 0, cts.Token);
        await server.ReturnAsync(command!, new JsonObject(), cts.Token);
        await execute.WaitAsync(Timeout);
        var ev = await client.Events.ReadAsync(cts.Token).AsTask().WaitAsync(Timeout);

        Assert.Equal("BLOCK_EXPORT_DELETED", ev.Name);
    }

    [Fact]
    public async Task Wait_for_event_skips_other_events()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        // Act
        var wait = client.WaitForEventAsync("BLOCK_EXPORT_DELETED", cts.Token);
        await server.EventAsync("BLOCK_JOB_READY", new JsonObject { ["device"] = "j0" }, 1, 0, cts.Token);
        await server.EventAsync("BLOCK_EXPORT_DELETED", new JsonObject { ["id"] = "exp1" }, 2, 0, cts.Token);
        var ev = await wait.WaitAsync(Timeout);

        // Assert
        Assert.Equal("BLOCK_EXPORT_DELETED", ev.Name);
        Assert.Equal("exp1", (string?)ev.Data?["id"]);
    }

    [Fact]
    public async Task Replies_out_of_order_are_matched_by_id()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        // Act: two commands in flight; the second one's reply comes first.
        var first = client.ExecuteAsync("query-first", null, cts.Token);
        var firstCommand = await server.ReadCommandAsync(cts.Token);
        var second = client.ExecuteAsync("query-second", null, cts.Token);
        var secondCommand = await server.ReadCommandAsync(cts.Token);
        await server.ReturnAsync(secondCommand!, JsonValue.Create("answer-2"), cts.Token);
        var secondResult = await second.WaitAsync(Timeout);
        var firstDoneEarly = first.IsCompleted;
        await server.ReturnAsync(firstCommand!, JsonValue.Create("answer-1"), cts.Token);
        var firstResult = await first.WaitAsync(Timeout);

        // Assert
        Assert.NotEqual((string?)firstCommand!["id"], (string?)secondCommand!["id"]);
        Assert.False(firstDoneEarly);
        Assert.Equal("answer-1", (string?)firstResult);
        Assert.Equal("answer-2", (string?)secondResult);
    }

    [Fact]
    public async Task Server_disconnect_fails_the_pending_command_with_QmpProtocolException()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);
        var execute = client.ExecuteAsync("quit", null, cts.Token);
        await server.ReadCommandAsync(cts.Token);

        // Act
        server.CloseConnection();

        // Assert
        await Assert.ThrowsAsync<QmpProtocolException>(() => execute.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Command_after_the_server_disconnected_fails_with_QmpProtocolException()
    {
        // Arrange: the events channel completes once the reader has seen the end.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);
        server.CloseConnection();
        await client.Events.Completion.WaitAsync(Timeout);

        // Act + Assert
        await Assert.ThrowsAsync<QmpProtocolException>(() => client.ExecuteAsync("query-status", null, cts.Token).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Waiting_for_an_event_fails_when_the_server_disconnects()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        var wait = client.WaitForEventAsync("BLOCK_EXPORT_DELETED", cts.Token);
        server.CloseConnection();

        await Assert.ThrowsAsync<QmpProtocolException>(() => wait.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Malformed_line_from_the_server_fails_the_pending_command()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        var execute = client.ExecuteAsync("query-status", null, cts.Token);
        await server.ReadCommandAsync(cts.Token);
        await server.SendLineAsync("""{"return": """, cts.Token);

        await Assert.ThrowsAsync<QmpProtocolException>(() => execute.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancelling_a_command_throws_OperationCanceled()
    {
        using var cts = new CancellationTokenSource(Timeout);
        using var commandCts = new CancellationTokenSource();
        await using var server = FakeQmpServer.Start();
        await using var client = await ConnectAsync(server, cts.Token);

        var execute = client.ExecuteAsync("query-status", null, commandCts.Token);
        await server.ReadCommandAsync(cts.Token);
        await commandCts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => execute.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Disposing_twice_is_harmless()
    {
        // .NET's dispose contract: later calls must be ignored, never throw.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var client = await ConnectAsync(server, cts.Token);

        await client.DisposeAsync().AsTask().WaitAsync(Timeout);
        var second = await Record.ExceptionAsync(() => client.DisposeAsync().AsTask().WaitAsync(Timeout));

        Assert.Null(second);
    }

    private static async Task<QmpClient> ConnectAsync(FakeQmpServer server, CancellationToken cancellationToken)
    {
        var negotiation = server.AcceptAndNegotiateAsync(cancellationToken);
        var client = await QmpClient.ConnectAsync(server.SocketPath, null, cancellationToken).WaitAsync(Timeout, cancellationToken);
        await negotiation.WaitAsync(Timeout, cancellationToken);
        return client;
    }
}
