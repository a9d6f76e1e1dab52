using System.Net.Sockets;
using System.Text;
using OfflineExport.Tests.Support;
using static OfflineExport.Tests.Nbd.Wire;

namespace OfflineExport.Tests.Nbd;

/// <summary>
/// A tiny scripted NBD server on a unix socket in a private temp folder, for what real qemu will
/// not do on demand (out-of-order replies, malformed chunks, early EOF). It accepts one connection,
/// speaks the fixed-newstyle handshake, then lets the test read requests and write replies.
/// Everything is encoded here by hand from the protocol document, never with the library's codecs.
/// </summary>
internal sealed class FakeNbdServer : IAsyncDisposable
{
    private const ulong NbdMagic = 0x4e42444d41474943; // "NBDMAGIC"
    private const ulong IHaveOpt = 0x49484156454F5054; // "IHAVEOPT"
    private const ulong OptionReplyMagic = 0x3e889045565a9;
    private const uint RequestMagic = 0x25609513;
    private const uint SimpleReplyMagic = 0x67446698;
    private const uint StructuredReplyMagic = 0x668e33ef;

    private const uint RepAck = 1;
    private const uint RepInfo = 3;
    private const uint RepMetaContext = 4;
    private const uint RepErrUnsup = 0x80000001;

    private const ushort ChunkNone = 0;
    private const ushort ChunkOffsetData = 1;
    private const ushort ChunkOffsetHole = 2;
    private const ushort ChunkBlockStatus = 5;
    private const ushort ChunkError = 0x8001;
    private const ushort ChunkErrorOffset = 0x8002;
    private const ushort FlagDone = 1;

    private readonly UnixSocketPeer _peer;

    private FakeNbdServer(UnixSocketPeer peer, FakeNbdExport export)
    {
        _peer = peer;
        Export = export;
    }

    /// <summary>The path to give <c>NbdClient.ConnectUnixAsync</c>.</summary>
    public string SocketPath => _peer.SocketPath;

    /// <summary>What the scripted handshake announces.</summary>
    public FakeNbdExport Export { get; }

    /// <summary>The u32 client flags the client answered the greeting with.</summary>
    public uint ClientFlags { get; private set; }

    /// <summary>Every option the scripted handshake received, in order.</summary>
    public List<FakeNbdOption> Options { get; } = [];

    /// <summary>Export name sent with SET_META_CONTEXT.</summary>
    public string? MetaContextExportName { get; private set; }

    /// <summary>Queries sent with SET_META_CONTEXT, in order.</summary>
    public List<string> MetaContextQueries { get; } = [];

    /// <summary>Export name sent with GO.</summary>
    public string? GoExportName { get; private set; }

    /// <summary>Info types requested with GO.</summary>
    public List<ushort> GoInfoRequests { get; } = [];

    private NetworkStream Stream => _peer.Stream;

    /// <summary>Listens on a fresh unix socket in a unique temp folder.</summary>
    public static FakeNbdServer Start(FakeNbdExport? export = null) =>
        new(UnixSocketPeer.Listen("oe-nbd-test-", "nbd.sock"), export ?? new FakeNbdExport());

    /// <summary>Accepts the one client connection.</summary>
    public Task AcceptAsync(CancellationToken cancellationToken) => _peer.AcceptAsync(cancellationToken);

    /// <summary>
    /// Accepts and runs the whole handshake: greeting, client flags, then answers options until GO:
    /// STRUCTURED_REPLY with ACK, SET_META_CONTEXT with one META_CONTEXT per granted query and ACK,
    /// GO with INFO_EXPORT, INFO_BLOCK_SIZE and ACK. Anything else gets ERR_UNSUP.
    /// </summary>
    public async Task AcceptAndHandshakeAsync(CancellationToken cancellationToken)
    {
        await AcceptAsync(cancellationToken);
        await SendGreetingAsync(cancellationToken);
        await ReadClientFlagsAsync(cancellationToken);
        while (true)
        {
            var option = await ReadOptionAsync(cancellationToken)
                ?? throw new EndOfStreamException("client closed the connection during the handshake");
            switch (option.Option)
            {
                case FakeNbdOption.StructuredReply:
                    await SendOptionReplyAsync(option.Option, RepAck, [], cancellationToken);
                    break;
                case FakeNbdOption.SetMetaContext:
                    await AnswerSetMetaContextAsync(option, cancellationToken);
                    break;
                case FakeNbdOption.Go:
                    await AnswerGoAsync(option, cancellationToken);
                    return;
                default:
                    await SendOptionReplyAsync(option.Option, RepErrUnsup, [], cancellationToken);
                    break;
            }
        }
    }

    /// <summary>Sends the 18-byte greeting with <see cref="FakeNbdExport.HandshakeFlags"/>.</summary>
    public Task SendGreetingAsync(CancellationToken cancellationToken) =>
        SendRawAsync(Concat(U64(NbdMagic), U64(IHaveOpt), U16(Export.HandshakeFlags)), cancellationToken);

    /// <summary>Reads the u32 client flags.</summary>
    public async Task<uint> ReadClientFlagsAsync(CancellationToken cancellationToken)
    {
        var bytes = new byte[4];
        await Stream.ReadExactlyAsync(bytes, cancellationToken);
        ClientFlags = ReadU32(bytes);
        return ClientFlags;
    }

    /// <summary>Reads one option (checking its IHAVEOPT prefix), or null when the client closed the connection.</summary>
    public async Task<FakeNbdOption?> ReadOptionAsync(CancellationToken cancellationToken)
    {
        var header = new byte[16];
        var read = await Stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < header.Length)
        {
            throw new EndOfStreamException($"client sent {read} bytes of an option header, then closed");
        }

        if (ReadU64(header) != IHaveOpt)
        {
            throw new InvalidDataException("option does not start with IHAVEOPT");
        }

        var data = new byte[ReadU32(header.AsSpan(12))];
        await Stream.ReadExactlyAsync(data, cancellationToken);
        var option = new FakeNbdOption(ReadU32(header.AsSpan(8)), data);
        Options.Add(option);
        return option;
    }

    /// <summary>Sends one option reply: u64 magic, u32 option, u32 type, u32 length, data.</summary>
    public Task SendOptionReplyAsync(uint option, uint type, byte[] data, CancellationToken cancellationToken) =>
        SendRawAsync(Concat(U64(OptionReplyMagic), U32(option), U32(type), U32((uint)data.Length), data), cancellationToken);

    /// <summary>Parses SET_META_CONTEXT and grants the queries listed in <see cref="FakeNbdExport.Contexts"/>.</summary>
    public async Task AnswerSetMetaContextAsync(FakeNbdOption option, CancellationToken cancellationToken)
    {
        // u32 export name length, name, u32 query count, each u32 length + query
        var data = option.Data.AsSpan();
        var nameLength = (int)ReadU32(data);
        MetaContextExportName = Encoding.UTF8.GetString(data.Slice(4, nameLength));
        var at = 4 + nameLength;
        var count = ReadU32(data[at..]);
        at += 4;
        for (var i = 0; i < count; i++)
        {
            var length = (int)ReadU32(data[at..]);
            MetaContextQueries.Add(Encoding.UTF8.GetString(data.Slice(at + 4, length)));
            at += 4 + length;
        }

        if (at != data.Length)
        {
            throw new InvalidDataException($"SET_META_CONTEXT data has {data.Length - at} stray bytes");
        }

        foreach (var query in MetaContextQueries)
        {
            if (Export.Contexts.TryGetValue(query, out var id))
            {
                await SendOptionReplyAsync(option.Option, RepMetaContext, Concat(U32(id), Encoding.UTF8.GetBytes(query)), cancellationToken);
            }
        }

        await SendOptionReplyAsync(option.Option, RepAck, [], cancellationToken);
    }

    /// <summary>Parses GO and answers INFO_EXPORT, INFO_BLOCK_SIZE, ACK.</summary>
    public async Task AnswerGoAsync(FakeNbdOption option, CancellationToken cancellationToken)
    {
        // u32 name length, name, u16 info request count, u16 info types
        var data = option.Data.AsSpan();
        var nameLength = (int)ReadU32(data);
        GoExportName = Encoding.UTF8.GetString(data.Slice(4, nameLength));
        var at = 4 + nameLength;
        var count = ReadU16(data[at..]);
        at += 2;
        for (var i = 0; i < count; i++)
        {
            GoInfoRequests.Add(ReadU16(data[at..]));
            at += 2;
        }

        if (at != data.Length)
        {
            throw new InvalidDataException($"GO data has {data.Length - at} stray bytes");
        }

        // INFO_EXPORT (0): u64 size, u16 transmission flags
        await SendOptionReplyAsync(option.Option, RepInfo, Concat(U16(0), U64(Export.Size), U16(Export.TransmissionFlags)), cancellationToken);

        // INFO_BLOCK_SIZE (3): u32 minimum, preferred, maximum
        var blockSize = Concat(U16(3), U32(Export.MinimumBlockSize), U32(Export.PreferredBlockSize), U32(Export.MaximumBlockSize));
        await SendOptionReplyAsync(option.Option, RepInfo, blockSize, cancellationToken);
        await SendOptionReplyAsync(option.Option, RepAck, [], cancellationToken);
    }

    /// <summary>Reads one 28-byte request (and a WRITE's payload), checking the request magic.</summary>
    public async Task<FakeNbdRequest> ReadRequestAsync(CancellationToken cancellationToken)
    {
        var header = new byte[28];
        await Stream.ReadExactlyAsync(header, cancellationToken);
        if (ReadU32(header) != RequestMagic)
        {
            throw new InvalidDataException("request does not start with the request magic");
        }

        var type = ReadU16(header.AsSpan(6));
        var length = ReadU32(header.AsSpan(24));
        var payload = type == FakeNbdRequest.Write ? new byte[length] : [];
        await Stream.ReadExactlyAsync(payload, cancellationToken);
        return new FakeNbdRequest(ReadU16(header.AsSpan(4)), type, ReadU64(header.AsSpan(8)), ReadU64(header.AsSpan(16)), length, payload);
    }

    /// <summary>Sends a 16-byte simple reply.</summary>
    public Task SendSimpleReplyAsync(ulong cookie, uint error, CancellationToken cancellationToken) =>
        SendRawAsync(Concat(U32(SimpleReplyMagic), U32(error), U64(cookie)), cancellationToken);

    /// <summary>Sends one structured chunk: u32 magic, u16 flags, u16 type, u64 cookie, u32 length, payload.</summary>
    public Task SendChunkAsync(ushort flags, ushort type, ulong cookie, byte[] payload, CancellationToken cancellationToken) =>
        SendRawAsync(ChunkBytes(flags, type, cookie, payload), cancellationToken);

    /// <summary>Sends an OFFSET_DATA chunk.</summary>
    public Task SendDataAsync(ulong cookie, ulong offset, byte[] data, bool done, CancellationToken cancellationToken) =>
        SendChunkAsync(Done(done), ChunkOffsetData, cookie, Concat(U64(offset), data), cancellationToken);

    /// <summary>Sends an OFFSET_HOLE chunk.</summary>
    public Task SendHoleAsync(ulong cookie, ulong offset, uint size, bool done, CancellationToken cancellationToken) =>
        SendChunkAsync(Done(done), ChunkOffsetHole, cookie, Concat(U64(offset), U32(size)), cancellationToken);

    /// <summary>Sends the final, empty NONE chunk.</summary>
    public Task SendNoneAsync(ulong cookie, CancellationToken cancellationToken) =>
        SendChunkAsync(FlagDone, ChunkNone, cookie, [], cancellationToken);

    /// <summary>Sends an ERROR chunk: u32 errno, u16 message length, message.</summary>
    public Task SendErrorAsync(ulong cookie, uint errno, string message, bool done, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(message);
        return SendChunkAsync(Done(done), ChunkError, cookie, Concat(U32(errno), U16(text.Length), text), cancellationToken);
    }

    /// <summary>Sends an ERROR_OFFSET chunk: u32 errno, u16 message length, message, u64 offset.</summary>
    public Task SendErrorOffsetAsync(ulong cookie, uint errno, string message, ulong offset, bool done, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(message);
        return SendChunkAsync(Done(done), ChunkErrorOffset, cookie, Concat(U32(errno), U16(text.Length), text, U64(offset)), cancellationToken);
    }

    /// <summary>Sends a BLOCK_STATUS chunk: u32 context id, then (u32 length, u32 flags) per extent.</summary>
    public Task SendBlockStatusAsync(ulong cookie, uint contextId, (uint Length, uint Flags)[] extents, bool done, CancellationToken cancellationToken)
    {
        var payload = Concat([U32(contextId), .. extents.Select(e => Concat(U32(e.Length), U32(e.Flags)))]);
        return SendChunkAsync(Done(done), ChunkBlockStatus, cookie, payload, cancellationToken);
    }

    /// <summary>Writes raw bytes (for truncated or otherwise broken replies).</summary>
    public async Task SendRawAsync(byte[] bytes, CancellationToken cancellationToken) =>
        await Stream.WriteAsync(bytes, cancellationToken);

    /// <summary>The bytes of one structured chunk, for tests that send only part of one.</summary>
    public static byte[] ChunkBytes(ushort flags, ushort type, ulong cookie, byte[] payload) =>
        Concat(U32(StructuredReplyMagic), U16(flags), U16(type), U64(cookie), U32((uint)payload.Length), payload);

    /// <summary>
    /// Reads <paramref name="chunk"/> bytes every <paramref name="pause"/> until the client closes its end:
    /// a server that reads, but too slowly to ever take a large request in time.
    /// </summary>
    public async Task TrickleUntilClientClosesAsync(int chunk, TimeSpan pause, CancellationToken cancellationToken)
    {
        var buffer = new byte[chunk];
        try
        {
            while (await Stream.ReadAsync(buffer, cancellationToken) > 0)
            {
                await Task.Delay(pause, cancellationToken);
            }
        }
        catch (IOException)
        {
            // A reset counts as closed.
        }
        catch (OperationCanceledException)
        {
            // The test has seen what it waited for.
        }
    }

    /// <summary>Reads until the client closes its end; returns whatever it sent meanwhile.</summary>
    public async Task<byte[]> ReadUntilClientClosesAsync(CancellationToken cancellationToken)
    {
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await Stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException)
            {
                // A reset counts as closed.
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    /// <summary>Closes the connection as a server hanging up would.</summary>
    public void CloseConnection() => _peer.CloseConnection();

    public ValueTask DisposeAsync() => _peer.DisposeAsync();

    private static ushort Done(bool done) => done ? FlagDone : (ushort)0;
}
