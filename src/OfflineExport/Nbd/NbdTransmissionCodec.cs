using System.Buffers.Binary;
using System.Text;

namespace OfflineExport.Nbd;

/// <summary>Pure encoders and decoders for the transmission phase (no I/O).</summary>
public static class NbdTransmissionCodec
{
    /// <summary>Writes a 28-byte request header into <paramref name="destination"/>.</summary>
    public static void EncodeRequest(Span<byte> destination, NbdCommandFlags flags, NbdCommandType type, ulong cookie, ulong offset, uint length)
    {
        // u32 magic, u16 command flags, u16 type, u64 cookie, u64 offset, u32 length
        BinaryPrimitives.WriteUInt32BigEndian(destination, NbdProtocol.RequestMagic);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)flags);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], (ushort)type);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], cookie);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], offset);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], length);
    }

    /// <summary>The magic (u32) that starts every reply.</summary>
    public static uint DecodeReplyMagic(ReadOnlySpan<byte> first4) => BinaryPrimitives.ReadUInt32BigEndian(first4);

    /// <summary>Decodes a 16-byte simple reply: u32 magic, u32 error, u64 cookie.</summary>
    public static (uint Error, ulong Cookie) DecodeSimpleReply(ReadOnlySpan<byte> reply)
    {
        if (BinaryPrimitives.ReadUInt32BigEndian(reply) != NbdProtocol.SimpleReplyMagic)
        {
            throw new NbdException("NBD: bad simple reply magic");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(reply[4..]), BinaryPrimitives.ReadUInt64BigEndian(reply[8..]));
    }

    /// <summary>Decodes a 20-byte structured chunk header: u32 magic, u16 flags, u16 type, u64 cookie, u32 length.</summary>
    public static NbdChunkHeader DecodeChunkHeader(ReadOnlySpan<byte> header)
    {
        if (BinaryPrimitives.ReadUInt32BigEndian(header) != NbdProtocol.StructuredReplyMagic)
        {
            throw new NbdException("NBD: bad structured reply magic");
        }

        return new NbdChunkHeader(
            BinaryPrimitives.ReadUInt16BigEndian(header[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(header[6..]),
            BinaryPrimitives.ReadUInt64BigEndian(header[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(header[16..]));
    }

    /// <summary>Decodes the u64 offset at the start of an OFFSET_DATA payload.</summary>
    public static ulong DecodeDataOffset(ReadOnlySpan<byte> first8) => BinaryPrimitives.ReadUInt64BigEndian(first8);

    /// <summary>Decodes an OFFSET_HOLE payload: u64 offset, u32 size.</summary>
    public static (ulong Offset, uint Size) DecodeHole(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 12)
        {
            throw new NbdException($"NBD: OFFSET_HOLE chunk of {payload.Length} bytes, expected 12");
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(payload[8..]);
        if (size == 0)
        {
            throw new NbdException("NBD: OFFSET_HOLE chunk of size 0");
        }

        return (BinaryPrimitives.ReadUInt64BigEndian(payload), size);
    }

    /// <summary>Decodes an ERROR or ERROR_OFFSET payload: u32 errno, u16 message length, message[, u64 offset].</summary>
    public static NbdErrorChunk DecodeError(ReadOnlySpan<byte> payload, ushort type)
    {
        if (payload.Length < 6)
        {
            throw new NbdException($"NBD: error chunk of {payload.Length} bytes is too short");
        }

        var errno = BinaryPrimitives.ReadUInt32BigEndian(payload);
        var messageLength = BinaryPrimitives.ReadUInt16BigEndian(payload[4..]);
        var trailer = type == (ushort)NbdReplyType.ErrorOffset ? 8 : 0;
        var known = type is (ushort)NbdReplyType.Error or (ushort)NbdReplyType.ErrorOffset;
        if (6 + messageLength + trailer > payload.Length || (known && 6 + messageLength + trailer != payload.Length))
        {
            throw new NbdException($"NBD: error chunk message length {messageLength} does not fit its {payload.Length}-byte payload");
        }

        var message = Encoding.UTF8.GetString(payload.Slice(6, messageLength));
        ulong? offset = trailer == 8 ? BinaryPrimitives.ReadUInt64BigEndian(payload[(6 + messageLength)..]) : null;
        return new NbdErrorChunk(NbdErrors.Normalize(errno), message, offset);
    }

    /// <summary>
    /// Decodes a BLOCK_STATUS payload (u32 context id, then n × (u32 length, u32 flags)) for a request
    /// that began at <paramref name="requestOffset"/> and ends at <paramref name="requestEnd"/>.
    /// Extents get absolute offsets; the last one is clamped to the request's end, and extents past it
    /// are dropped (the server may overshoot). A zero-length extent is a protocol violation.
    /// </summary>
    public static uint DecodeBlockStatus(ReadOnlySpan<byte> payload, ulong requestOffset, ulong requestEnd, List<NbdExtent> extents)
    {
        if (payload.Length < 12 || (payload.Length - 4) % 8 != 0)
        {
            throw new NbdException($"NBD: BLOCK_STATUS chunk of {payload.Length} bytes is malformed");
        }

        var contextId = BinaryPrimitives.ReadUInt32BigEndian(payload);
        var offset = requestOffset;
        for (var at = 4; at < payload.Length; at += 8)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(payload[at..]);
            var flags = BinaryPrimitives.ReadUInt32BigEndian(payload[(at + 4)..]);
            if (length == 0)
            {
                throw new NbdException("NBD: BLOCK_STATUS extent of length 0");
            }

            if (offset >= requestEnd)
            {
                break;
            }

            var clamped = Math.Min(length, requestEnd - offset);
            extents.Add(new NbdExtent(offset, clamped, flags));
            offset += clamped;
        }

        return contextId;
    }
}
