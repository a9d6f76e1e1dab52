namespace OfflineExport.Nbd;

/// <summary>The client side of the fixed-newstyle handshake: structured replies, metadata contexts, GO (see NBD-CLIENT.md).</summary>
public sealed class NbdHandshake
{
    private readonly Stream _stream;
    private readonly NbdClientOptions _options;
    private Dictionary<uint, string> _contextNames = [];

    private NbdHandshake(Stream stream, NbdClientOptions options)
    {
        _stream = stream;
        _options = options;
    }

    /// <summary>
    /// Negotiates on <paramref name="stream"/>: fixed newstyle, structured replies, the metadata contexts of
    /// <paramref name="options"/>, then NBD_OPT_GO. Returns the export and the granted contexts by id.
    /// Blocking: the caller bounds it by closing the stream's socket at its deadline.
    /// </summary>
    /// <exception cref="NbdException">The server refused something the client needs (the handshake is aborted politely).</exception>
    public static (NbdExportInfo Export, IReadOnlyDictionary<uint, string> Contexts) Run(Stream stream, NbdClientOptions options)
    {
        var handshake = new NbdHandshake(stream, options);
        var export = handshake.Negotiate();
        return (export, handshake._contextNames);
    }

    private NbdExportInfo Negotiate()
    {
        var greeting = new byte[NbdProtocol.GreetingLength];
        _stream.ReadExactly(greeting);
        var serverFlags = NbdHandshakeCodec.DecodeGreeting(greeting);

        var clientFlags = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(clientFlags, NbdHandshakeCodec.ChooseClientFlags(serverFlags));
        _stream.Write(clientFlags);

        // Structured replies first: block status and hole chunks need them.
        SendOption(NbdProtocol.OptStructuredReply, []);
        var (reply, data) = ReadOptionReply(NbdProtocol.OptStructuredReply);
        if (reply.Type != NbdProtocol.RepAck)
        {
            throw AbortHandshake($"NBD: server refused structured replies ({DescribeReply(reply, data)})");
        }

        if (_options.MetaContexts.Count > 0)
        {
            _contextNames = SetMetaContexts();
        }

        return Go();
    }

    private Dictionary<uint, string> SetMetaContexts()
    {
        var request = NbdHandshakeCodec.EncodeMetaContextData(_options.ExportName, _options.MetaContexts);
        SendOption(NbdProtocol.OptSetMetaContext, request);
        var granted = new Dictionary<uint, string>();
        while (true)
        {
            var (reply, data) = ReadOptionReply(NbdProtocol.OptSetMetaContext);
            if (reply.Type == NbdProtocol.RepAck)
            {
                break;
            }

            if (reply.Type != NbdProtocol.RepMetaContext)
            {
                throw AbortHandshake($"NBD: server refused metadata contexts ({DescribeReply(reply, data)})");
            }

            var (id, name) = NbdHandshakeCodec.DecodeMetaContext(data);
            granted[id] = name;
        }

        foreach (var wanted in _options.MetaContexts)
        {
            if (!granted.ContainsValue(wanted))
            {
                throw AbortHandshake($"NBD: server did not grant metadata context '{wanted}' on export '{_options.ExportName}'");
            }
        }

        return granted;
    }

    private NbdExportInfo Go()
    {
        var request = NbdHandshakeCodec.EncodeGoData(_options.ExportName, [NbdProtocol.InfoBlockSize]);
        SendOption(NbdProtocol.OptGo, request);
        (ulong Size, NbdTransmissionFlags Flags)? export = null;
        (uint Minimum, uint Preferred, uint Maximum)? blockSize = null;
        while (true)
        {
            var (reply, data) = ReadOptionReply(NbdProtocol.OptGo);
            if (reply.Type == NbdProtocol.RepAck)
            {
                break;
            }

            if (reply.Type != NbdProtocol.RepInfo)
            {
                throw AbortHandshake($"NBD: cannot open export '{_options.ExportName}' ({DescribeReply(reply, data)})");
            }

            switch (NbdHandshakeCodec.DecodeInfoType(data))
            {
                case NbdProtocol.InfoExport:
                    export = NbdHandshakeCodec.DecodeInfoExport(data);
                    break;
                case NbdProtocol.InfoBlockSize:
                    blockSize = NbdHandshakeCodec.DecodeInfoBlockSize(data);
                    break;
                default:
                    break; // Other info items (name, description) are not needed.
            }
        }

        if (export is not { } e)
        {
            throw new NbdException($"NBD: server sent no size for export '{_options.ExportName}'");
        }

        // Without INFO_BLOCK_SIZE the protocol's defaults apply: 1 / 4096 / min(32 MiB, size).
        var (minimum, preferred, maximum) = blockSize ?? (1u, 4096u, (uint)Math.Min(32UL << 20, Math.Max(e.Size, 1)));
        var contexts = _contextNames.ToDictionary(kv => kv.Value, kv => kv.Key);
        return new NbdExportInfo(_options.ExportName, e.Size, e.Flags, minimum, preferred, maximum, contexts);
    }

    /// <summary>
    /// Ends a handshake the server conducted correctly but that we cannot use (a refused option, a
    /// missing context) the polite way: NBD_OPT_ABORT, best effort, then the caller closes. Only a
    /// server that broke the protocol is simply dropped.
    /// </summary>
    private NbdException AbortHandshake(string reason)
    {
        try
        {
            SendOption(NbdProtocol.OptAbort, []);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The server went away first; the reason below is what matters.
        }

        return new NbdException(reason);
    }

    private void SendOption(uint option, byte[] data)
    {
        var bytes = NbdHandshakeCodec.EncodeOption(option, data);
        _stream.Write(bytes);
    }

    private (NbdOptionReply Reply, byte[] Data) ReadOptionReply(uint option)
    {
        var header = new byte[NbdProtocol.OptionReplyHeaderLength];
        _stream.ReadExactly(header);
        var reply = NbdHandshakeCodec.DecodeOptionReply(header, option);
        var data = new byte[reply.Length];
        _stream.ReadExactly(data);
        return (reply, data);
    }

    private static string DescribeReply(NbdOptionReply reply, byte[] data)
    {
        if (!reply.IsError)
        {
            return $"unexpected reply type {reply.Type}";
        }

        var message = NbdHandshakeCodec.DecodeErrorMessage(data);
        var kind = NbdErrors.DescribeOptionError(reply.Type);
        return message.Length == 0 ? kind : $"{kind}: {message}";
    }
}
