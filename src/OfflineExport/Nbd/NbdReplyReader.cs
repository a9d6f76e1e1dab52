using System.Buffers;
using System.Net.Sockets;

namespace OfflineExport.Nbd;

/// <summary>
/// The reply side of one connection, driven by an <see cref="NbdReplyPump"/>: reads every reply, checks
/// each chunk strictly (cookie, type, bounds, coverage, context ids) and completes the request it answers;
/// data chunks are received straight into the caller's buffer. It ends at the first violation or when the connection closes, and says why.
/// Completing a request runs its awaiting code right here (see <see cref="NbdPendingRequest.Completion"/>).
/// </summary>
internal sealed class NbdReplyReader
{
    /// <summary>Largest non-data chunk accepted (qemu sends at most 128 Ki extents = 1 MiB per chunk).</summary>
    private const int MaxMetadataChunk = 16 << 20;

    private readonly NbdReceiveBuffer _receive;
    private readonly NbdPendingTable _pending;
    private readonly IReadOnlyDictionary<uint, string> _contextNames;
    private readonly Func<bool> _disconnecting;
    private long _lastProgress = Environment.TickCount64;
    private volatile bool _runningCallerCode;

    /// <summary>Creates the reader of one connection.</summary>
    /// <param name="receive">The connection's receive side.</param>
    /// <param name="pending">The requests waiting for replies.</param>
    /// <param name="contextNames">The metadata contexts negotiated, by id.</param>
    /// <param name="disconnecting">True once the client sent DISC: the server closing is then expected.</param>
    public NbdReplyReader(NbdReceiveBuffer receive, NbdPendingTable pending, IReadOnlyDictionary<uint, string> contextNames, Func<bool> disconnecting)
    {
        _receive = receive;
        _pending = pending;
        _contextNames = contextNames;
        _disconnecting = disconnecting;
    }

    /// <summary>When the last reply bytes arrived (<see cref="Environment.TickCount64"/>), for the watchdog.</summary>
    public long LastProgress => Volatile.Read(ref _lastProgress);

    /// <summary>
    /// True while the pump's thread runs the code that awaited one of this connection's replies
    /// (<see cref="NbdPendingRequest.Completion"/>): replies waiting unread then are the caller's delay,
    /// not the server's silence.
    /// </summary>
    public bool IsRunningCallerCode => _runningCallerCode;

    /// <summary>Tells the reader the connection is idle: silence from now on is no stall.</summary>
    public void MarkIdle() => Volatile.Write(ref _lastProgress, Environment.TickCount64);

    /// <summary>True when bytes of the next reply are already buffered (read on before waiting again).</summary>
    public bool HasBufferedBytes => _receive.Buffered > 0;

    /// <summary>
    /// Reads one reply chunk, blocking until it is whole, and completes the request it ends. False once the
    /// connection has ended; <paramref name="cause"/> says why (null: closed after DISC).
    /// </summary>
    public bool TryReadNext(out NbdException? cause)
    {
        var receive = _receive;
        cause = null;
        try
        {
            if (!receive.Ensure(4, eofAllowed: true))
            {
                if (!_disconnecting())
                {
                    cause = new NbdException("NBD: server closed the connection");
                }

                return false;
            }

            if (_pending.IsEmpty)
            {
                // Every request is registered before it is sent, so this answers nothing. Refused at once:
                // waiting for the rest of it would hold the pump's thread with no watchdog to end the wait.
                throw new NbdException("NBD: the server sent a reply with no request in flight");
            }

            Volatile.Write(ref _lastProgress, Environment.TickCount64);
            var magic = NbdTransmissionCodec.DecodeReplyMagic(receive.Peek(4));
            if (magic == NbdProtocol.SimpleReplyMagic)
            {
                receive.Ensure(NbdProtocol.SimpleReplyLength);
                var reply = receive.Peek(NbdProtocol.SimpleReplyLength);
                receive.Consume(NbdProtocol.SimpleReplyLength);
                HandleSimpleReply(reply);
            }
            else if (magic == NbdProtocol.StructuredReplyMagic)
            {
                receive.Ensure(NbdProtocol.StructuredReplyHeaderLength);
                var header = NbdTransmissionCodec.DecodeChunkHeader(receive.Peek(NbdProtocol.StructuredReplyHeaderLength));
                receive.Consume(NbdProtocol.StructuredReplyHeaderLength);
                HandleChunk(header);
            }
            else
            {
                throw new NbdException($"NBD: bad reply magic 0x{magic:x8}");
            }

            return true;
        }
        catch (NbdException ex)
        {
            cause = ex;
        }
        catch (EndOfStreamException ex)
        {
            cause = new NbdException("NBD: server closed the connection in the middle of a reply", ex);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            cause = new NbdException($"NBD: connection lost: {ex.Message}", ex);
        }

        return false;
    }

    private void HandleSimpleReply(ReadOnlySpan<byte> reply)
    {
        var (error, cookie) = NbdTransmissionCodec.DecodeSimpleReply(reply);
        var request = _pending.Take(cookie);
        if (error != 0)
        {
            error = NbdErrors.Normalize(error);
            Resume(request, new NbdException($"NBD: {NbdCommandNames.Of(request.Type)} at offset {request.Offset} failed: {NbdErrors.Describe(error)}", error));
            return;
        }

        if (request.Type is NbdCommandType.Read or NbdCommandType.BlockStatus)
        {
            // With structured replies negotiated, data and extents must come in chunks. The request is
            // no longer pending, so fail it here before the violation ends the connection.
            var violation = new NbdException($"NBD: simple reply to {NbdCommandNames.Of(request.Type)} while structured replies are on");
            Resume(request, violation);
            throw violation;
        }

        Resume(request, null);
    }

    private void HandleChunk(NbdChunkHeader chunk)
    {
        var request = _pending.Find(chunk.Cookie);

        switch ((NbdReplyType)chunk.Type)
        {
            case NbdReplyType.None:
                if (chunk.Length != 0 || !chunk.IsDone)
                {
                    throw new NbdException("NBD: NONE chunk must be empty and final");
                }

                break;
            case NbdReplyType.OffsetData:
                ReceiveData(chunk, request);
                break;
            case NbdReplyType.OffsetHole:
                ReceiveHole(chunk, request);
                break;
            case NbdReplyType.BlockStatus:
                ReceiveBlockStatus(chunk, request);
                break;
            default:
                if (!chunk.IsError)
                {
                    throw new NbdException($"NBD: unknown reply chunk type {chunk.Type}");
                }

                var payload = ReadPayload(chunk.Length, 65536 + 16);
                var error = NbdTransmissionCodec.DecodeError(payload, chunk.Type);
                var text = error.Message.Length > 0 ? $"{NbdErrors.Describe(error.Errno)}: {error.Message}" : NbdErrors.Describe(error.Errno);
                request.Error ??= new NbdException($"NBD: {NbdCommandNames.Of(request.Type)} at offset {error.Offset ?? request.Offset} failed: {text}", error.Errno);
                break;
        }

        if (chunk.IsDone)
        {
            Complete(_pending.Take(chunk.Cookie));
        }
    }

    private void ReceiveData(NbdChunkHeader chunk, NbdPendingRequest request)
    {
        RequireType(request, NbdCommandType.Read, "OFFSET_DATA");
        if (chunk.Length <= 8)
        {
            throw new NbdException($"NBD: OFFSET_DATA chunk of {chunk.Length} bytes carries no data");
        }

        _receive.Ensure(8);
        var offset = NbdTransmissionCodec.DecodeDataOffset(_receive.Peek(8));
        _receive.Consume(8);
        var length = chunk.Length - 8UL;
        var wholeRequest = request.IsWholeAnswer(offset, length);
        RequireInside(request, offset, length, "data");
        // Straight into the caller's buffer: no copy on the hot path.
        _receive.Read(request.Destination.Span.Slice((int)(offset - request.Offset), (int)length));
    }

    private void ReceiveHole(NbdChunkHeader chunk, NbdPendingRequest request)
    {
        RequireType(request, NbdCommandType.Read, "OFFSET_HOLE");
        var payload = ReadPayload(chunk.Length, 12);
        var (offset, size) = NbdTransmissionCodec.DecodeHole(payload);
        var wholeRequest = request.IsWholeAnswer(offset, size);
        RequireInside(request, offset, size, "hole");
        request.Destination.Span.Slice((int)(offset - request.Offset), (int)size).Clear();
    }

    private void ReceiveBlockStatus(NbdChunkHeader chunk, NbdPendingRequest request)
    {
        RequireType(request, NbdCommandType.BlockStatus, "BLOCK_STATUS");
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(chunk.Length, MaxMetadataChunk));
        try
        {
            if (chunk.Length > MaxMetadataChunk)
            {
                throw new NbdException($"NBD: BLOCK_STATUS chunk of {chunk.Length} bytes is too long");
            }

            var payload = buffer.AsSpan(0, (int)chunk.Length);
            _receive.Read(payload);
            var extents = new List<NbdExtent>();
            var contextId = NbdTransmissionCodec.DecodeBlockStatus(payload, request.Offset, request.End, extents);
            if (!_contextNames.ContainsKey(contextId))
            {
                throw new NbdException($"NBD: extents for metadata context id {contextId}, which was not negotiated");
            }

            request.Extents ??= [];
            if (!request.Extents.TryAdd(contextId, extents))
            {
                throw new NbdException($"NBD: two BLOCK_STATUS chunks for context '{_contextNames[contextId]}' in one reply");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] ReadPayload(uint length, int maximum)
    {
        if (length > maximum)
        {
            throw new NbdException($"NBD: reply chunk of {length} bytes is too long");
        }

        var payload = new byte[length];
        _receive.Read(payload);
        return payload;
    }

    private void Complete(NbdPendingRequest request) =>
        Resume(request, request.Error ?? (request.Type == NbdCommandType.Read && request.Covered != request.Length
            ? new NbdException($"NBD: READ at offset {request.Offset} answered {request.Covered} of {request.Length} bytes")
            : null));

    /// <summary>
    /// Completes <paramref name="request"/> (with <paramref name="failure"/>, if any). What awaited it runs
    /// here and now; the watchdog does not count that time, and the silence clock restarts after it.
    /// </summary>
    private void Resume(NbdPendingRequest request, Exception? failure)
    {
        _runningCallerCode = true;
        try
        {
            if (failure is null)
            {
                request.TrySetResult();
            }
            else
            {
                request.TrySetException(failure);
            }
        }
        finally
        {
            Volatile.Write(ref _lastProgress, Environment.TickCount64);
            _runningCallerCode = false;
        }
    }

    private static void RequireType(NbdPendingRequest request, NbdCommandType expected, string chunkName)
    {
        if (request.Type != expected)
        {
            throw new NbdException($"NBD: {chunkName} chunk in the reply to {NbdCommandNames.Of(request.Type)}");
        }
    }

    private static void RequireInside(NbdPendingRequest request, ulong offset, ulong length, string what)
    {
        if (offset < request.Offset || offset + length > request.End || offset + length < offset)
        {
            throw new NbdException($"NBD: {what} chunk [{offset}, +{length}) lies outside the request [{request.Offset}, +{request.Length})");
        }

        if (!request.TryCover(offset, length))
        {
            throw new NbdException($"NBD: chunk [{offset}, +{length}) overlaps another chunk of the reply to READ at offset {request.Offset}");
        }
    }
}
