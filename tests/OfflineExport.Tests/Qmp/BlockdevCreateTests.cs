using System.Text.Json.Nodes;
using OfflineExport.Qmp;

namespace OfflineExport.Tests.Qmp;

/// <summary>
/// <c>blockdev-create</c> is a job: its return says only that it started; the end comes as events and
/// its error only from <c>query-jobs</c>. Scripted against a fake QMP peer in the orders qemu 7.2 uses.
/// </summary>
public sealed class BlockdevCreateTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_job_that_concludes_before_its_return_arrives_is_waited_for_and_dismissed()
    {
        // Arrange: qemu 7.2 sends "created" and "running" before the return, the rest after.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = RunJobAsync(server, error: null, concludedBeforeReturn: true, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        // Act
        await qmp.BlockdevCreateAsync("job1", new JsonObject { ["driver"] = "qcow2", ["file"] = "f", ["size"] = 1 << 20 }, Timeout, cts.Token);
        var sent = await script.WaitAsync(Timeout);

        // Assert
        Assert.Equal(["blockdev-create", "query-jobs", "job-dismiss"], sent.Select(c => (string?)c["execute"]));
        Assert.Equal("job1", (string?)sent[0]["arguments"]!["job-id"]);
        Assert.Equal("qcow2", (string?)sent[0]["arguments"]!["options"]!["driver"]);
        Assert.Equal("job1", (string?)sent[2]["arguments"]!["id"]);
    }

    [Fact]
    public async Task A_failed_job_fails_with_the_error_query_jobs_reports_after_dismissing_it()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = RunJobAsync(server, error: "Could not resize image: No space left on device", concludedBeforeReturn: false, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        var error = await Assert.ThrowsAsync<QmpException>(() => qmp.BlockdevCreateAsync("job1", new JsonObject(), Timeout, cts.Token));
        var sent = await script.WaitAsync(Timeout);

        Assert.Equal("Could not resize image: No space left on device", error.Description);
        Assert.Equal("job-dismiss", (string?)sent[^1]["execute"]);
    }

    [Fact]
    public async Task A_job_that_never_concludes_fails_after_the_timeout_instead_of_waiting_for_ever()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAndNegotiateAsync(cts.Token);
                var create = await server.ReadCommandAsync(cts.Token) ?? throw new InvalidOperationException("the client closed early");
                await server.ReturnAsync(create, new JsonObject(), cts.Token);
                await server.EventAsync("JOB_STATUS_CHANGE", Status("job1", "running"), 1, 0, cts.Token);
            },
            cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => qmp.BlockdevCreateAsync("job1", new JsonObject(), TimeSpan.FromMilliseconds(300), cts.Token));
        await script.WaitAsync(Timeout);

        Assert.Contains("blockdev-create did not finish within 0.3 s", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Plays one job: another job's events first (to be ignored), then this job's, then query-jobs and job-dismiss.</summary>
    private static Task<List<JsonObject>> RunJobAsync(FakeQmpServer server, string? error, bool concludedBeforeReturn, CancellationToken cancellationToken) => Task.Run(
        async () =>
        {
            await server.AcceptAndNegotiateAsync(cancellationToken);
            var sent = new List<JsonObject>();
            var create = await server.ReadCommandAsync(cancellationToken) ?? throw new InvalidOperationException("the client closed early");
            sent.Add(create);
            await server.EventAsync("JOB_STATUS_CHANGE", Status("other", "concluded"), 1, 0, cancellationToken);
            await server.EventAsync("JOB_STATUS_CHANGE", Status("job1", "created"), 1, 1, cancellationToken);
            await server.EventAsync("JOB_STATUS_CHANGE", Status("job1", "running"), 1, 2, cancellationToken);
            if (concludedBeforeReturn)
            {
                await server.EventAsync("JOB_STATUS_CHANGE", Status("job1", "concluded"), 1, 3, cancellationToken);
                await server.ReturnAsync(create, new JsonObject(), cancellationToken);
            }
            else
            {
                await server.ReturnAsync(create, new JsonObject(), cancellationToken);
                await server.EventAsync("JOB_STATUS_CHANGE", Status("job1", error is null ? "pending" : "aborting"), 1, 3, cancellationToken);
                await server.EventAsync("JOB_STATUS_CHANGE", Status("job1", "concluded"), 1, 4, cancellationToken);
            }

            var query = await server.ReadCommandAsync(cancellationToken) ?? throw new InvalidOperationException("the client closed early");
            sent.Add(query);
            var job = new JsonObject { ["id"] = "job1", ["type"] = "create", ["status"] = "concluded" };
            if (error is not null)
            {
                job["error"] = error;
            }

            await server.ReturnAsync(query, new JsonArray(new JsonObject { ["id"] = "other", ["type"] = "create", ["status"] = "concluded", ["error"] = "not ours" }, job), cancellationToken);
            var dismiss = await server.ReadCommandAsync(cancellationToken) ?? throw new InvalidOperationException("the client closed early");
            sent.Add(dismiss);
            await server.ReturnAsync(dismiss, new JsonObject(), cancellationToken);
            return sent;
        },
        cancellationToken);

    private static JsonObject Status(string id, string status) => new() { ["status"] = status, ["id"] = id };
}
