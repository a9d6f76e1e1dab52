using System.Text;
using OfflineExport.Nbd;
using static OfflineExport.Tests.Nbd.Wire;

namespace OfflineExport.Tests.Nbd;

/// <summary>
/// NbdClient against <see cref="FakeNbdServer"/>: the handshake here, transmission and failures in
/// the other parts. Every await is bounded by <see cref="Timeout"/> so a hang fails the test.
/// </summary>
public partial class NbdClientTests
{
    private const string ExportName = "disk0";
    private const string Allocation = "base:allocation";
    private const string Bitmap = "qemu:dirty-bitmap:b0";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Handshake_exposes_export_size_flags_block_sizes_and_contexts()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport
        {
            Size = (10UL << 30) + 512,
            MinimumBlockSize = 512,
            PreferredBlockSize = 65536,
            MaximumBlockSize = 16u << 20,
            Contexts = new Dictionary<string, uint> { [Allocation] = 11, [Bitmap] = 42 },
        };
        await using var server = FakeNbdServer.Start(export);

        // Act
        await using var client = await ConnectAsync(server, Options(Allocation, Bitmap), cts.Token);

        // Assert
        var info = client.Export;
        Assert.Equal(ExportName, info.Name);
        Assert.Equal((10UL << 30) + 512, info.Size);
        Assert.Equal(FakeNbdExport.DefaultTransmissionFlags, (ushort)info.Flags);
        Assert.True(info.CanFlush);
        Assert.True(info.CanWriteZeroes);
        Assert.True(info.CanMultiConn);
        Assert.False(info.IsReadOnly);
        Assert.Equal(512u, info.MinimumBlockSize);
        Assert.Equal(65536u, info.PreferredBlockSize);
        Assert.Equal(16u << 20, info.MaximumBlockSize);
        Assert.Equal(2, info.MetaContexts.Count);
        Assert.Equal(11u, info.MetaContexts[Allocation]);
        Assert.Equal(42u, info.MetaContexts[Bitmap]);
    }

    [Fact]
    public async Task Handshake_sends_structured_reply_then_set_meta_context_then_go()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 1, [Bitmap] = 2 } };
        await using var server = FakeNbdServer.Start(export);

        // Act
        await using var client = await ConnectAsync(server, Options(Allocation, Bitmap), cts.Token);

        // Assert: client flags FIXED_NEWSTYLE | NO_ZEROES, as the server offered both.
        Assert.Equal(3u, server.ClientFlags);
        Assert.Equal([8u, 10u, 7u], server.Options.Select(o => o.Option));
        Assert.Empty(server.Options[0].Data);
        Assert.Equal(ExportName, server.MetaContextExportName);
        Assert.Equal([Allocation, Bitmap], server.MetaContextQueries);
        Assert.Equal(ExportName, server.GoExportName);
        Assert.Contains((ushort)3, server.GoInfoRequests); // INFO_BLOCK_SIZE
    }

    [Fact]
    public async Task Handshake_without_meta_contexts_skips_set_meta_context()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();

        await using var client = await ConnectAsync(server, Options(), cts.Token);

        Assert.Equal([8u, 7u], server.Options.Select(o => o.Option));
        Assert.Empty(client.Export.MetaContexts);
    }

    [Fact]
    public async Task Client_does_not_claim_no_zeroes_when_the_server_does_not_offer_it()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start(new FakeNbdExport { HandshakeFlags = 1 });

        await using var client = await ConnectAsync(server, Options(), cts.Token);

        Assert.Equal(1u, server.ClientFlags);
    }

    [Fact]
    public async Task Refused_dirty_bitmap_context_fails_naming_the_context()
    {
        // Arrange: qemu simply leaves out a bitmap it does not have.
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 1 } };
        await using var server = FakeNbdServer.Start(export);
        var script = AnswerUpToSetMetaContextAsync(server, cts.Token);

        // Act
        var error = await Assert.ThrowsAsync<NbdException>(
            () => NbdClient.ConnectUnixAsync(server.SocketPath, Options(Allocation, Bitmap), cts.Token).WaitAsync(Timeout));

        // Assert
        await script.WaitAsync(Timeout);
        Assert.Contains(Bitmap, error.Message);
    }

    [Fact]
    public async Task Handshake_given_up_by_the_client_ends_with_OPT_ABORT()
    {
        // Arrange: NBD-CLIENT.md "During the handshake, quit with OPT_ABORT"; proto.md: unless the
        // server broke a MUST, the client's only way to end option haggling is a soft disconnect.
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Contexts = new Dictionary<string, uint> { [Allocation] = 1 } };
        await using var server = FakeNbdServer.Start(export);
        var script = AnswerUpToSetMetaContextAsync(server, cts.Token);
        await Assert.ThrowsAsync<NbdException>(
            () => NbdClient.ConnectUnixAsync(server.SocketPath, Options(Allocation, Bitmap), cts.Token).WaitAsync(Timeout));
        await script.WaitAsync(Timeout);

        // Act
        var next = await server.ReadOptionAsync(cts.Token).WaitAsync(Timeout);

        // Assert
        Assert.NotNull(next);
        Assert.Equal(FakeNbdOption.Abort, next.Option);
        Assert.Empty(next.Data);
    }

    [Fact]
    public async Task Export_refused_at_GO_fails_with_the_server_message()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAsync(cts.Token);
                await server.SendGreetingAsync(cts.Token);
                await server.ReadClientFlagsAsync(cts.Token);
                var structured = await server.ReadOptionAsync(cts.Token);
                await server.SendOptionReplyAsync(structured!.Option, 1, [], cts.Token);
                var go = await server.ReadOptionAsync(cts.Token);
                Assert.Equal(FakeNbdOption.Go, go!.Option);

                // NBD_REP_ERR_UNKNOWN = 2^31 + 6, with a message for humans.
                await server.SendOptionReplyAsync(go.Option, 0x80000006, Encoding.UTF8.GetBytes("export 'disk0' not present"), cts.Token);
            },
            cts.Token);

        // Act
        var error = await Assert.ThrowsAsync<NbdException>(
            () => NbdClient.ConnectUnixAsync(server.SocketPath, Options(), cts.Token).WaitAsync(Timeout));

        // Assert
        await script.WaitAsync(Timeout);
        Assert.Contains("export 'disk0' not present", error.Message);
    }

    [Fact]
    public async Task Server_with_a_bad_greeting_is_refused()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAsync(cts.Token);
                await server.SendRawAsync(Concat(Ascii("NBDMAGIC"), U64(0x00420281861253), U16(3)), cts.Token);
            },
            cts.Token);

        await Assert.ThrowsAsync<NbdException>(
            () => NbdClient.ConnectUnixAsync(server.SocketPath, Options(), cts.Token).WaitAsync(Timeout));
        await script.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Server_closing_during_the_handshake_fails_with_NbdException()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        var script = Task.Run(
            async () =>
            {
                await server.AcceptAsync(cts.Token);
                await server.SendGreetingAsync(cts.Token);
                await server.ReadClientFlagsAsync(cts.Token);
                await server.ReadOptionAsync(cts.Token);
                server.CloseConnection();
            },
            cts.Token);

        await Assert.ThrowsAsync<NbdException>(
            () => NbdClient.ConnectUnixAsync(server.SocketPath, Options(), cts.Token).WaitAsync(Timeout));
        await script.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Connecting_to_a_missing_socket_fails_with_NbdException()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var path = Path.Combine(Path.GetTempPath(), "oe-nbd-test-" + Guid.NewGuid().ToString("N"), "none.sock");

        await Assert.ThrowsAsync<NbdException>(
            () => NbdClient.ConnectUnixAsync(path, Options(), cts.Token).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Disposing_twice_is_harmless_and_closes_the_connection()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var server = FakeNbdServer.Start();
        var client = await ConnectAsync(server, Options(), cts.Token);

        await client.DisposeAsync().AsTask().WaitAsync(Timeout);
        var second = await Record.ExceptionAsync(() => client.DisposeAsync().AsTask().WaitAsync(Timeout));

        Assert.Null(second);
        await server.ReadUntilClientClosesAsync(cts.Token).WaitAsync(Timeout);
    }

    private static NbdClientOptions Options(params string[] contexts) =>
        new() { ExportName = ExportName, MetaContexts = contexts };

    private static async Task<NbdClient> ConnectAsync(FakeNbdServer server, NbdClientOptions options, CancellationToken cancellationToken)
    {
        var handshake = server.AcceptAndHandshakeAsync(cancellationToken);
        var client = await NbdClient.ConnectUnixAsync(server.SocketPath, options, cancellationToken).WaitAsync(Timeout, cancellationToken);
        await handshake.WaitAsync(Timeout, cancellationToken);
        return client;
    }

    /// <summary>Greeting, STRUCTURED_REPLY, SET_META_CONTEXT answered by the export's grants; no GO.</summary>
    private static Task AnswerUpToSetMetaContextAsync(FakeNbdServer server, CancellationToken cancellationToken) =>
        Task.Run(
            async () =>
            {
                await server.AcceptAsync(cancellationToken);
                await server.SendGreetingAsync(cancellationToken);
                await server.ReadClientFlagsAsync(cancellationToken);
                var structured = await server.ReadOptionAsync(cancellationToken);
                Assert.Equal(FakeNbdOption.StructuredReply, structured!.Option);
                await server.SendOptionReplyAsync(structured.Option, 1, [], cancellationToken);
                var meta = await server.ReadOptionAsync(cancellationToken);
                Assert.Equal(FakeNbdOption.SetMetaContext, meta!.Option);
                await server.AnswerSetMetaContextAsync(meta, cancellationToken);
            },
            cancellationToken);
}
