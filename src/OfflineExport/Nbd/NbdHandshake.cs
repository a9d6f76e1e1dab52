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
    /// </summary>
    /// <exception cref="NbdException">The server refused something the client needs (the handshake is aborted politely).</exception>
    public static async Task<(NbdExportInfo Export, IReadOnlyDictionary<uint, string> Contexts)> RunAsync(Stream stream, NbdClientOptions options, CancellationToken cancellationToken)
    {
        var handshake = new NbdHandshake(stream, options);
        var export = await handshake.NegotiateAsync(cancellationToken).ConfigureAwait(false);
        return (export, handshake._contextNames);
    }

    private async Task<NbdExportInfo> NegotiateAsync(CancellationToken cancellationToken)
    {
        var greeting = new byte[NbdProtocol.GreetingLength];
        await _stream.ReadExactlyAsync(greeting, cancellationToken).ConfigureAwait(false);
        var serverFlags = NbdHandshakeCodec.DecodeGreeting(greeting);

        var clientFlags = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(clientFlags, NbdHandshakeCodec.ChooseClientFlags(serverFlags));
        await _stream.WriteAsync(clientFlags, cancellationToken).ConfigureAwait(false);

        // Structured replies first: block status and hole chunks need them.
        await SendOptionAsync(NbdProtocol.OptStructuredReply, [], cancellationToken).ConfigureAwait(false);
        var (reply, data) = await ReadOptionReplyAsync(NbdProtocol.OptStructuredReply, cancellationToken).ConfigureAwait(false);
        if (reply.Type != NbdProtocol.RepAck)
        {
            throw await AbortHandshakeAsync($"NBD: server refused structured replies ({DescribeReply(reply, data)})").ConfigureAwait(false);
        }

        if (_options.MetaContexts.Count > 0)
        {
            _contextNames = await SetMetaContextsAsync(cancellationToken).ConfigureAwait(false);
        }

        return await GoAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<Dictionary<uint, string>> SetMetaContextsAsync(CancellationToken cancellationToken)
    {
        var request = NbdHandshakeCodec.EncodeMetaContextData(_options.ExportName, _options.MetaContexts);
        await SendOptionAsync(NbdProtocol.OptSetMetaContext, request, cancellationToken).ConfigureAwait(false);
        var granted = new Dictionary<uint, string>();
        while (true)
        {
            var (reply, data) = await ReadOptionReplyAsync(NbdProtocol.OptSetMetaContext, cancellationToken).ConfigureAwait(false);
            if (reply.Type == NbdProtocol.RepAck)
            {
                break;
            }

            if (reply.Type != NbdProtocol.RepMetaContext)
            {
                throw await AbortHandshakeAsync($"NBD: server refused metadata contexts ({DescribeReply(reply, data)})").ConfigureAwait(false);
            }

            var (id, name) = NbdHandshakeCodec.DecodeMetaContext(data);
            granted[id] = name;
        }

        foreach (var wanted in _options.MetaContexts)
        {
            if (!granted.ContainsValue(wanted))
            {
                throw await AbortHandshakeAsync($"NBD: server did not grant metadata context '{wanted}' on export '{_options.ExportName}'").ConfigureAwait(false);
            }
        }

        return granted;
    }

    private async Task<NbdExportInfo> GoAsync(CancellationToken cancellationToken)
    {
        var request = NbdHandshakeCodec.EncodeGoData(_options.ExportName, [NbdProtocol.InfoBlockSize]);
        await SendOptionAsync(NbdProtocol.OptGo, request, cancellationToken).ConfigureAwait(false);
        (ulong Size, NbdTransmissionFlags Flags)? export = null;
        (uint Minimum, uint Preferred, uint Maximum)? blockSize = null;
        while (true)
        {
            var (reply, data) = await ReadOptionReplyAsync(NbdProtocol.OptGo, cancellationToken).ConfigureAwait(false);
            if (reply.Type == NbdProtocol.RepAck)
            {
                break;
            }

            if (reply.Type != NbdProtocol.RepInfo)
            {
                throw await AbortHandshakeAsync($"NBD: cannot open export '{_options.ExportName}' ({DescribeReply(reply, data)})").ConfigureAwait(false);
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
    private async Task<NbdException> AbortHandshakeAsync(string reason)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await SendOptionAsync(NbdProtocol.OptAbort, [], timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The server went away first; the reason below is what matters.
        }

        return new NbdException(reason);
    }

    private async Task SendOptionAsync(uint option, byte[] data, CancellationToken cancellationToken)
    {
        var bytes = NbdHandshakeCodec.EncodeOption(option, data);
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(NbdOptionReply Reply, byte[] Data)> ReadOptionReplyAsync(uint option, CancellationToken cancellationToken)
    {
        var header = new byte[NbdProtocol.OptionReplyHeaderLength];
        await _stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
        var reply = NbdHandshakeCodec.DecodeOptionReply(header, option);
        var data = new byte[reply.Length];
        await _stream.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
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
