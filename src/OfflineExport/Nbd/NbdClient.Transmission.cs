namespace OfflineExport.Nbd;

/// <content>Requests of the transmission phase and the serialized sender.</content>
public sealed partial class NbdClient
{
    /// <summary>How long to wait for the server to close after DISC before closing from this side.</summary>
    private static readonly TimeSpan DisconnectGrace = TimeSpan.FromSeconds(5);

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>; hole chunks become zeroes.</summary>
    public Task ReadAsync(ulong offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var length = CheckPayloadLength(destination.Length);
        return SubmitAsync(NbdCommandType.Read, NbdCommandFlags.None, offset, length, default, destination, cancellationToken);
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public Task WriteAsync(ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var length = CheckPayloadLength(data.Length);
        return SubmitAsync(NbdCommandType.Write, NbdCommandFlags.None, offset, length, data, default, cancellationToken);
    }

    /// <summary>Writes <paramref name="length"/> zero bytes at <paramref name="offset"/> without a payload.</summary>
    public Task WriteZeroesAsync(ulong offset, uint length, NbdCommandFlags flags, CancellationToken cancellationToken)
    {
        if (!Export.CanWriteZeroes)
        {
            throw new NbdException($"NBD: export '{Export.Name}' does not support WRITE_ZEROES");
        }

        return SubmitAsync(NbdCommandType.WriteZeroes, flags, offset, length, default, default, cancellationToken);
    }

    /// <summary>Asks the server to make every write answered so far durable.</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!Export.CanFlush)
        {
            throw new NbdException($"NBD: export '{Export.Name}' does not support FLUSH");
        }

        return SubmitAsync(NbdCommandType.Flush, NbdCommandFlags.None, 0, 0, default, default, cancellationToken);
    }

    /// <summary>
    /// Queries every selected metadata context over [<paramref name="offset"/>, +<paramref name="length"/>).
    /// The answer may cover less than asked (ask again from where it ended); extents never run past the request.
    /// </summary>
    public async Task<NbdBlockStatus> BlockStatusAsync(ulong offset, uint length, CancellationToken cancellationToken)
    {
        if (_contextNames.Count == 0)
        {
            throw new InvalidOperationException("BLOCK_STATUS needs metadata contexts selected at connect time");
        }

        if (length == 0 || offset + length > Export.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"block status range {offset}+{length} is outside the {Export.Size}-byte export");
        }

        var request = await SubmitCoreAsync(new NbdPendingRequest(NbdCommandType.BlockStatus, offset, length, default), NbdCommandFlags.None, default, cancellationToken).ConfigureAwait(false);
        var byName = new Dictionary<string, IReadOnlyList<NbdExtent>>();
        foreach (var (id, extents) in request.Extents ?? [])
        {
            byName[_contextNames[id]] = extents;
        }

        foreach (var wanted in _options.MetaContexts)
        {
            if (!byName.ContainsKey(wanted))
            {
                throw new NbdException($"NBD: server sent no extents for context '{wanted}' at offset {offset}");
            }
        }

        return new NbdBlockStatus(byName);
    }

    /// <summary>
    /// Ends the session politely: sends DISC (which has no reply) once nothing is in flight and waits
    /// for the server to close. qemu drops requests still in flight at DISC, so callers finish first.
    /// </summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        lock (_pending)
        {
            if (_pending.Count > 0)
            {
                throw new InvalidOperationException("NBD: requests are still in flight");
            }
        }

        ThrowIfFailed();
        _disconnecting = true;
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            NbdTransmissionCodec.EncodeRequest(_requestHeader, NbdCommandFlags.None, NbdCommandType.Disconnect, _nextCookie++, 0, 0);
            await _stream.WriteAsync(_requestHeader, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The server is gone already: nothing left to say goodbye to.
        }
        finally
        {
            _sendLock.Release();
        }

        // The server answers DISC by closing. Everything was flushed before, so a server slow to close
        // (a busy machine) is no failure: after a grace period the socket is simply closed from here.
        try
        {
            await _readLoop.WaitAsync(DisconnectGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    private uint CheckPayloadLength(int length)
    {
        if (length <= 0 || (uint)length > Export.MaximumBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"request of {length} bytes: the server accepts 1 to {Export.MaximumBlockSize}");
        }

        return (uint)length;
    }

    private async Task SubmitAsync(NbdCommandType type, NbdCommandFlags flags, ulong offset, uint length, ReadOnlyMemory<byte> payload, Memory<byte> destination, CancellationToken cancellationToken) =>
        await SubmitCoreAsync(new NbdPendingRequest(type, offset, length, destination), flags, payload, cancellationToken).ConfigureAwait(false);

    private async Task<NbdPendingRequest> SubmitCoreAsync(NbdPendingRequest request, NbdCommandFlags flags, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ulong cookie;
            lock (_pending)
            {
                ThrowIfFailed();
                cookie = _nextCookie++;
                // Registered before its bytes hit the wire: the reply may beat SendAsync's return.
                _pending.Add(cookie, request);
            }

            using (cancellationToken.UnsafeRegister(static (s, ct) => ((NbdClient)s!).Abort(new OperationCanceledException(ct)), this))
            {
                await SendAsync(flags, request.Type, cookie, request.Offset, request.Length, payload).ConfigureAwait(false);
                await request.Completion.Task.ConfigureAwait(false);
            }

            return request;
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task SendAsync(NbdCommandFlags flags, NbdCommandType type, ulong cookie, ulong offset, uint length, ReadOnlyMemory<byte> payload)
    {
        await _sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            // Header and payload are never interleaved with another request's bytes.
            NbdTransmissionCodec.EncodeRequest(_requestHeader, flags, type, cookie, offset, length);
            await _stream.WriteAsync(_requestHeader).ConfigureAwait(false);
            if (!payload.IsEmpty)
            {
                await _stream.WriteAsync(payload).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The reader loop sees the broken socket too and fails this request with the first cause.
            Abort(new NbdException($"NBD: connection lost while sending: {ex.Message}", ex));
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
