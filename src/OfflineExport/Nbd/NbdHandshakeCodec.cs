using System.Buffers.Binary;
using System.Text;

namespace OfflineExport.Nbd;

/// <summary>Pure encoders and decoders for the fixed-newstyle handshake (no I/O).</summary>
public static class NbdHandshakeCodec
{
    /// <summary>Longest option reply data accepted; anything longer is a broken server.</summary>
    public const int MaxOptionReplyLength = 1 << 20;

    /// <summary>Decodes the 18-byte greeting and returns the handshake flags.</summary>
    public static ushort DecodeGreeting(ReadOnlySpan<byte> greeting)
    {
        RequireLength(greeting, NbdProtocol.GreetingLength, "greeting");
        // u64 NBDMAGIC, u64 IHAVEOPT, u16 handshake flags
        if (BinaryPrimitives.ReadUInt64BigEndian(greeting) != NbdProtocol.InitMagic)
        {
            throw new NbdException("NBD: not an NBD server (bad greeting magic)");
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(greeting[8..]) != NbdProtocol.OptionMagic)
        {
            throw new NbdException("NBD: server does not speak the newstyle protocol");
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(greeting[16..]);
        if ((flags & NbdProtocol.FlagFixedNewstyle) == 0)
        {
            throw new NbdException("NBD: server does not speak fixed newstyle");
        }

        return flags;
    }

    /// <summary>The client flags to answer <paramref name="serverFlags"/> with (only bits we know and the server offers).</summary>
    public static uint ChooseClientFlags(ushort serverFlags)
    {
        var flags = NbdProtocol.ClientFlagFixedNewstyle;
        if ((serverFlags & NbdProtocol.FlagNoZeroes) != 0)
        {
            flags |= NbdProtocol.ClientFlagNoZeroes;
        }

        return flags;
    }

    /// <summary>Encodes one option: u64 IHAVEOPT, u32 option, u32 length, data.</summary>
    public static byte[] EncodeOption(uint option, ReadOnlySpan<byte> data)
    {
        var bytes = new byte[NbdProtocol.OptionHeaderLength + data.Length];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, NbdProtocol.OptionMagic);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), (uint)data.Length);
        data.CopyTo(bytes.AsSpan(NbdProtocol.OptionHeaderLength));
        return bytes;
    }

    /// <summary>Data of SET_META_CONTEXT: u32 name length, name, u32 query count, each u32 length + query.</summary>
    public static byte[] EncodeMetaContextData(string exportName, IReadOnlyList<string> queries)
    {
        var name = Encoding.UTF8.GetBytes(exportName);
        var encoded = queries.Select(Encoding.UTF8.GetBytes).ToArray();
        var bytes = new byte[4 + name.Length + 4 + encoded.Sum(q => 4 + q.Length)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)name.Length);
        name.CopyTo(span[4..]);
        var at = 4 + name.Length;
        BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)encoded.Length);
        at += 4;
        foreach (var query in encoded)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)query.Length);
            query.CopyTo(span[(at + 4)..]);
            at += 4 + query.Length;
        }

        return bytes;
    }

    /// <summary>Data of GO/INFO: u32 name length, name, u16 request count, u16 info types.</summary>
    public static byte[] EncodeGoData(string exportName, IReadOnlyList<ushort> infoRequests)
    {
        var name = Encoding.UTF8.GetBytes(exportName);
        var bytes = new byte[4 + name.Length + 2 + (2 * infoRequests.Count)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)name.Length);
        name.CopyTo(span[4..]);
        var at = 4 + name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)infoRequests.Count);
        at += 2;
        foreach (var info in infoRequests)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[at..], info);
            at += 2;
        }

        return bytes;
    }

    /// <summary>Decodes an option reply header and checks it answers <paramref name="expectedOption"/>.</summary>
    public static NbdOptionReply DecodeOptionReply(ReadOnlySpan<byte> header, uint expectedOption)
    {
        RequireLength(header, NbdProtocol.OptionReplyHeaderLength, "option reply");
        // u64 magic, u32 option, u32 reply type, u32 length
        if (BinaryPrimitives.ReadUInt64BigEndian(header) != NbdProtocol.OptionReplyMagic)
        {
            throw new NbdException("NBD: bad option reply magic");
        }

        var reply = new NbdOptionReply(
            BinaryPrimitives.ReadUInt32BigEndian(header[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(header[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(header[16..]));
        if (reply.Option != expectedOption)
        {
            throw new NbdException($"NBD: reply for option {reply.Option} while waiting for option {expectedOption}");
        }

        if (reply.Length > MaxOptionReplyLength)
        {
            throw new NbdException($"NBD: option reply of {reply.Length} bytes is too long");
        }

        return reply;
    }

    /// <summary>Decodes a META_CONTEXT reply: u32 context id, then the context name.</summary>
    public static (uint Id, string Name) DecodeMetaContext(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
        {
            throw new NbdException("NBD: META_CONTEXT reply shorter than 4 bytes");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(data), Encoding.UTF8.GetString(data[4..]));
    }

    /// <summary>The info type (u16) at the start of an INFO reply.</summary>
    public static ushort DecodeInfoType(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
        {
            throw new NbdException("NBD: INFO reply shorter than 2 bytes");
        }

        return BinaryPrimitives.ReadUInt16BigEndian(data);
    }

    /// <summary>Decodes INFO_EXPORT: u16 type, u64 size, u16 transmission flags.</summary>
    public static (ulong Size, NbdTransmissionFlags Flags) DecodeInfoExport(ReadOnlySpan<byte> data)
    {
        RequireLength(data, 12, "INFO_EXPORT");
        return (BinaryPrimitives.ReadUInt64BigEndian(data[2..]), (NbdTransmissionFlags)BinaryPrimitives.ReadUInt16BigEndian(data[10..]));
    }

    /// <summary>Decodes INFO_BLOCK_SIZE: u16 type, u32 minimum, u32 preferred, u32 maximum.</summary>
    public static (uint Minimum, uint Preferred, uint Maximum) DecodeInfoBlockSize(ReadOnlySpan<byte> data)
    {
        RequireLength(data, 14, "INFO_BLOCK_SIZE");
        var minimum = BinaryPrimitives.ReadUInt32BigEndian(data[2..]);
        var preferred = BinaryPrimitives.ReadUInt32BigEndian(data[6..]);
        var maximum = BinaryPrimitives.ReadUInt32BigEndian(data[10..]);
        if (minimum == 0 || preferred < minimum || maximum < preferred)
        {
            throw new NbdException($"NBD: inconsistent block sizes {minimum}/{preferred}/{maximum}");
        }

        return (minimum, preferred, maximum);
    }

    /// <summary>The message carried by an option error reply (UTF-8 text, possibly empty).</summary>
    public static string DecodeErrorMessage(ReadOnlySpan<byte> data) => Encoding.UTF8.GetString(data);

    private static void RequireLength(ReadOnlySpan<byte> data, int length, string what)
    {
        if (data.Length != length)
        {
            throw new NbdException($"NBD: {what} has {data.Length} bytes, expected {length}");
        }
    }
}
