using System.Text.Json.Nodes;
using OfflineExport.Export;
using OfflineExport.Qmp;
using OfflineExport.Tests.Qmp;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Export;

/// <summary>The block graph an export asks the daemon for, command by command, against a fake QMP peer.</summary>
public sealed class BlockGraphTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Source_chain_opens_bottom_up_read_only_with_explicit_backing_and_a_merged_bitmap()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var chain = ChainValidator.Validate(Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath, Bitmap("b1")) with { ClusterSize = 32768 }), ["b1"]);
        var commands = Answer(server, 7, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        // Act
        var context = await new BlockGraph(qmp, CacheDirectScope.Output, 256UL << 20, null).ExportSourceAsync(chain, "/run/x/nbd.sock", cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        // Assert
        Assert.Equal(["blockdev-add", "blockdev-add", "blockdev-add", "blockdev-add", "transaction", "nbd-server-start", "block-export-add"], sent.Select(c => (string?)c["execute"]));
        var nodes = sent.Take(4).Select(c => c["arguments"]!.AsObject()).ToList();
        Assert.Equal(["layer1-file", "layer1", "layer0-file", "layer0"], nodes.Select(n => (string?)n["node-name"]));
        Assert.All(nodes, n => Assert.True((bool)n["read-only"]!));
        Assert.All(nodes, n => Assert.False(n.ContainsKey("cache")));
        Assert.Equal(BasePath, (string?)nodes[0]["filename"]);
        Assert.Null(nodes[1]["backing"]); // the base opens nothing below it by itself
        Assert.True(nodes[1].ContainsKey("backing"));
        Assert.Equal("layer1", (string?)nodes[3]["backing"]);
        Assert.Equal(32768, (int?)nodes[1]["l2-cache-entry-size"]); // whole L2 tables, each layer its own size
        Assert.Equal(65536, (int?)nodes[3]["l2-cache-entry-size"]);
        var actions = sent[4]["arguments"]!["actions"]!.AsArray();
        var bitmap = (string)actions[0]!["data"]!["name"]!;
        Assert.False((bool)actions[0]!["data"]!["persistent"]!);
        Assert.Equal(2, actions[1]!["data"]!["bitmaps"]!.AsArray().Count);
        var export = sent[6]["arguments"]!.AsObject();
        Assert.Equal(BlockGraph.SourceExport, (string?)export["id"]);
        Assert.False((bool)export["writable"]!);
        Assert.Equal(bitmap, (string?)export["bitmaps"]![0]);
        Assert.Equal("qemu:dirty-bitmap:" + bitmap, context);
    }

    [Fact]
    public async Task One_checkpoint_in_the_top_layer_alone_is_exported_as_it_is_without_a_temporary_bitmap()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var chain = ChainValidator.Validate(Chain(Qcow2(TopPath, Bitmap("b1"), Bitmap("b0")), Qcow2(BasePath)), ["b1"]);
        var commands = Answer(server, 6, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        // Act
        var context = await new BlockGraph(qmp, CacheDirectScope.Output, 256UL << 20, null).ExportSourceAsync(chain, "/run/x/nbd.sock", cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        // Assert
        Assert.Equal(["blockdev-add", "blockdev-add", "blockdev-add", "blockdev-add", "nbd-server-start", "block-export-add"], sent.Select(c => (string?)c["execute"]));
        Assert.All(sent.Take(4), c => Assert.True((bool)c["arguments"]!["read-only"]!));
        var export = sent[5]["arguments"]!.AsObject();
        Assert.Equal("layer0", (string?)export["node-name"]);
        Assert.False((bool)export["writable"]!);
        Assert.Equal(["b1"], export["bitmaps"]!.AsArray().Select(b => (string?)b));
        Assert.Equal("qemu:dirty-bitmap:b1", context);
    }

    [Fact]
    public async Task One_checkpoint_below_an_empty_top_layer_is_still_merged_into_a_temporary_bitmap()
    {
        // Arrange: an external snapshot nobody wrote to (no cluster), over the layer holding the checkpoint.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var chain = ChainValidator.Validate(Chain(Qcow2(TopPath) with { HoldsNoClusters = true }, Qcow2(BasePath, Bitmap("b1"))), ["b1"]);
        var commands = Answer(server, 7, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        // Act
        var context = await new BlockGraph(qmp, CacheDirectScope.Output, 256UL << 20, null).ExportSourceAsync(chain, "/run/x/nbd.sock", cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        // Assert: the top layer holds no copy of b1, so it is merged from the base into the top's temporary bitmap.
        Assert.Equal("transaction", (string?)sent[4]["execute"]);
        var merge = sent[4]["arguments"]!["actions"]![1]!["data"]!;
        Assert.Equal("layer0", (string?)merge["node"]);
        Assert.Equal("layer1", (string?)merge["bitmaps"]![0]!["node"]);
        var temporary = (string)sent[4]["arguments"]!["actions"]![0]!["data"]!["name"]!;
        Assert.NotEqual("b1", temporary);
        Assert.Equal("qemu:dirty-bitmap:" + temporary, context);
    }

    [Fact]
    public async Task Full_export_adds_no_bitmap_and_returns_no_dirty_context()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var chain = ChainValidator.Validate(Chain(Qcow2(TopPath)), []);
        var commands = Answer(server, 4, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        var context = await new BlockGraph(qmp, CacheDirectScope.Output, 256UL << 20, null).ExportSourceAsync(chain, "/run/x/nbd.sock", cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        Assert.Null(context);
        Assert.DoesNotContain(sent, c => (string?)c["execute"] == "transaction");
    }

    [Fact]
    public async Task Output_falls_back_to_the_page_cache_when_o_direct_is_refused()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var commands = Answer(server, 4, c => IsDirect(c) ? "Could not open '/b/x.part': filesystem does not support O_DIRECT" : null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);
        var log = new List<string>();

        // Act
        await new BlockGraph(qmp, CacheDirectScope.Output, 1UL << 20, log.Add).ExportTargetAsync("/b/x.part", 2UL << 20, 131072, () => { }, cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        // Assert
        Assert.True(IsDirect(sent[0]));
        Assert.False(IsDirect(sent[1]));
        Assert.All(sent.Take(2), c => Assert.True(IsUnflushed(c))); // the publish fsyncs it
        Assert.False((bool)sent[1]["arguments"]!["read-only"]!);
        Assert.Equal("qcow2", (string?)sent[2]["arguments"]!["driver"]);
        Assert.Equal(131072, (int?)sent[2]["arguments"]!["l2-cache-entry-size"]);
        Assert.Equal(BlockGraph.TargetExport, (string?)sent[3]["arguments"]!["id"]);
        Assert.True((bool)sent[3]["arguments"]!["writable"]!);
        Assert.Contains(log, l => l.Contains("O_DIRECT refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Small_output_is_written_through_the_page_cache()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var commands = Answer(server, 3, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        await new BlockGraph(qmp, CacheDirectScope.Output, 256UL << 20, null).ExportTargetAsync("/b/x.part", 1UL << 20, 65536, () => { }, cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        Assert.False(IsDirect(sent[0]));
    }

    [Fact]
    public async Task Cache_direct_all_on_a_file_system_without_o_direct_is_an_output_problem()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var commands = Answer(server, 1, _ => "Could not open '/b/x.part': filesystem does not support O_DIRECT", cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new BlockGraph(qmp, CacheDirectScope.All, 0, null).ExportTargetAsync("/b/x.part", 0, 65536, () => { }, cts.Token));
        await commands.WaitAsync(Timeout);

        Assert.Equal(ErrorKind.OutputProblem, error.Kind);
        Assert.Contains("Daemon:CacheDirect=all needs O_DIRECT", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_opens_writable_as_qcow2_when_the_file_the_daemon_opened_is_not_ours()
    {
        // Arrange: the check after the file node throws, as when the partial's name was swapped for a symlink.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var commands = Answer(server, 1, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        // Act
        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new BlockGraph(qmp, CacheDirectScope.Output, 256UL << 20, null).ExportTargetAsync("/b/x.part", 1UL << 20, 65536, () => throw new OfflineExportException(ErrorKind.OutputProblem, "not ours"), cts.Token));
        var sent = await commands.WaitAsync(Timeout);

        // Assert: the file node only; no qcow2 node, no export.
        Assert.Equal("not ours", error.Message);
        Assert.Equal("file", (string?)Assert.Single(sent)["arguments"]!["driver"]);
    }

    [Fact]
    public async Task Previous_backup_chain_opens_bottom_up_read_only_under_names_of_its_own()
    {
        // Arrange: a backup folder's newest point over its full one.
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeQmpServer.Start();
        var layers = ChainValidator.ValidateStructure(Chain(Qcow2("/b/inc.qcow2"), Qcow2("/b/full.qcow2") with { ClusterSize = 131072 }), PreviousBackup.PrefixForNodes);
        var commands = Answer(server, 5, _ => null, cts.Token);
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, null, cts.Token);

        // Act
        await new BlockGraph(qmp, CacheDirectScope.All, 0, null).ExportPreviousAsync(new PreviousBackup("/b/inc.qcow2", layers), cts.Token);
        var sent = await commands.WaitAsync(Timeout);

        // Assert: nothing opened from a header, nothing named like the source's layers, no O_DIRECT even with "all".
        Assert.Equal(["blockdev-add", "blockdev-add", "blockdev-add", "blockdev-add", "block-export-add"], sent.Select(c => (string?)c["execute"]));
        var nodes = sent.Take(4).Select(c => c["arguments"]!.AsObject()).ToList();
        Assert.Equal(["previous1-file", "previous1", "previous0-file", "previous0"], nodes.Select(n => (string?)n["node-name"]));
        Assert.Equal(["/b/full.qcow2", "/b/inc.qcow2"], new[] { nodes[0], nodes[2] }.Select(n => (string?)n["filename"]));
        Assert.All(nodes, n => Assert.True((bool)n["read-only"]!));
        Assert.All(nodes, n => Assert.False(n.ContainsKey("cache")));
        Assert.Null(nodes[1]["backing"]);
        Assert.True(nodes[1].ContainsKey("backing"));
        Assert.Equal("previous1", (string?)nodes[3]["backing"]);
        Assert.Equal([131072, 65536], new[] { nodes[1], nodes[3] }.Select(n => (int?)n["l2-cache-entry-size"]));
        var export = sent[4]["arguments"]!.AsObject();
        Assert.Equal(BlockGraph.PreviousExport, (string?)export["id"]);
        Assert.Equal("previous0", (string?)export["node-name"]);
        Assert.False((bool)export["writable"]!);
    }

    private static bool IsDirect(JsonObject command) => command["arguments"]?["cache"]?["direct"] is JsonNode direct && (bool)direct;

    private static bool IsUnflushed(JsonObject command) => command["arguments"]?["cache"]?["no-flush"] is JsonNode unflushed && (bool)unflushed;

    /// <summary>Negotiates, then answers <paramref name="count"/> commands: with the error <paramref name="error"/> gives, else an empty return.</summary>
    private static async Task<List<JsonObject>> Answer(FakeQmpServer server, int count, Func<JsonObject, string?> error, CancellationToken cancellationToken)
    {
        await server.AcceptAndNegotiateAsync(cancellationToken);
        var sent = new List<JsonObject>();
        for (var i = 0; i < count; i++)
        {
            var command = await server.ReadCommandAsync(cancellationToken) ?? throw new InvalidOperationException("the client closed early");
            sent.Add(command);
            if (error(command) is { } description)
            {
                await server.ErrorAsync(command, "GenericError", description, cancellationToken);
            }
            else
            {
                await server.ReturnAsync(command, new JsonObject(), cancellationToken);
            }
        }

        return sent;
    }
}
