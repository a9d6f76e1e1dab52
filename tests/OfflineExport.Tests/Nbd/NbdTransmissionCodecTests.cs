using System.Text;
using OfflineExport.Nbd;
using static OfflineExport.Tests.Nbd.Wire;

namespace OfflineExport.Tests.Nbd;

public class NbdTransmissionCodecTests
{
    private static readonly byte[] RequestMagic = [0x25, 0x60, 0x95, 0x13];
    private static readonly byte[] SimpleReplyMagic = [0x67, 0x44, 0x66, 0x98];
    private static readonly byte[] StructuredReplyMagic = [0x66, 0x8e, 0x33, 0xef];

    [Fact]
    public void Request_header_is_28_bytes_magic_flags_type_cookie_offset_length()
    {
        // Arrange: a guard byte after the 28 bytes shows nothing more is written.
        var buffer = Enumerable.Repeat((byte)0xaa, 32).ToArray();

        // Act
        NbdTransmissionCodec.EncodeRequest(buffer, NbdCommandFlags.Fua, NbdCommandType.Write, 0x0102030405060708, 0x1122334455667788, 0x00010000);

        // Assert
        var expected = Concat(RequestMagic, U16(1), U16(1), U64(0x0102030405060708), U64(0x1122334455667788), U32(0x00010000));
        Assert.Equal(28, expected.Length);
        Assert.Equal(expected, buffer[..28]);
        Assert.Equal([0xaa, 0xaa, 0xaa, 0xaa], buffer[28..]);
    }

    [Theory]
    [InlineData(NbdCommandType.Read, 0)]
    [InlineData(NbdCommandType.Write, 1)]
    [InlineData(NbdCommandType.Disconnect, 2)]
    [InlineData(NbdCommandType.Flush, 3)]
    [InlineData(NbdCommandType.Trim, 4)]
    [InlineData(NbdCommandType.Cache, 5)]
    [InlineData(NbdCommandType.WriteZeroes, 6)]
    [InlineData(NbdCommandType.BlockStatus, 7)]
    public void Request_type_goes_on_the_wire_as_the_spec_number(NbdCommandType type, int wireType)
    {
        var buffer = new byte[28];

        NbdTransmissionCodec.EncodeRequest(buffer, NbdCommandFlags.None, type, 0, 0, 0);

        Assert.Equal(U16(wireType), buffer[6..8]);
    }

    [Theory]
    [InlineData(NbdCommandFlags.Fua, 1)]
    [InlineData(NbdCommandFlags.NoHole, 2)]
    [InlineData(NbdCommandFlags.DontFragment, 4)]
    [InlineData(NbdCommandFlags.RequestOne, 8)]
    [InlineData(NbdCommandFlags.FastZero, 16)]
    [InlineData(NbdCommandFlags.NoHole | NbdCommandFlags.FastZero, 18)]
    public void Request_flags_go_on_the_wire_as_the_spec_bits(NbdCommandFlags flags, int wireFlags)
    {
        var buffer = new byte[28];

        NbdTransmissionCodec.EncodeRequest(buffer, flags, NbdCommandType.WriteZeroes, 0, 0, 0);

        Assert.Equal(U16(wireFlags), buffer[4..6]);
    }

    [Fact]
    public void Reply_magic_is_the_leading_u32()
    {
        Assert.Equal(0x668e33efu, NbdTransmissionCodec.DecodeReplyMagic(StructuredReplyMagic));
        Assert.Equal(0x67446698u, NbdTransmissionCodec.DecodeReplyMagic(SimpleReplyMagic));
    }

    [Fact]
    public void Simple_reply_yields_error_and_cookie()
    {
        var reply = Concat(SimpleReplyMagic, U32(28), U64(0xfedcba9876543210));

        var (error, cookie) = NbdTransmissionCodec.DecodeSimpleReply(reply);

        Assert.Equal(28u, error);
        Assert.Equal(0xfedcba9876543210UL, cookie);
    }

    [Fact]
    public void Simple_reply_with_bad_magic_is_refused()
    {
        var reply = Concat(StructuredReplyMagic, U32(0), U64(1));

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeSimpleReply(reply));
    }

    [Fact]
    public void Chunk_header_yields_flags_type_cookie_and_length()
    {
        var header = Concat(StructuredReplyMagic, U16(1), U16(2), U64(0x0a0b0c0d0e0f1011), U32(12));

        var chunk = NbdTransmissionCodec.DecodeChunkHeader(header);

        Assert.Equal(new NbdChunkHeader(1, 2, 0x0a0b0c0d0e0f1011, 12), chunk);
        Assert.True(chunk.IsDone);
        Assert.False(chunk.IsError);
    }

    [Fact]
    public void Chunk_header_without_done_flag_is_not_final()
    {
        var header = Concat(StructuredReplyMagic, U16(0), U16(1), U64(5), U32(4104));

        var chunk = NbdTransmissionCodec.DecodeChunkHeader(header);

        Assert.False(chunk.IsDone);
    }

    [Theory]
    [InlineData(0x8001)] // ERROR
    [InlineData(0x8002)] // ERROR_OFFSET
    [InlineData(0x8123)] // unknown type with bit 15: still an error
    public void Chunk_type_with_bit_15_is_an_error(int type)
    {
        var header = Concat(StructuredReplyMagic, U16(1), U16(type), U64(5), U32(6));

        var chunk = NbdTransmissionCodec.DecodeChunkHeader(header);

        Assert.True(chunk.IsError);
    }

    [Fact]
    public void Chunk_header_with_bad_magic_is_refused()
    {
        var header = Concat(SimpleReplyMagic, U16(1), U16(0), U64(5), U32(0));

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeChunkHeader(header));
    }

    [Fact]
    public void Data_offset_is_the_leading_u64()
    {
        Assert.Equal(0x0000_0001_0000_0200UL, NbdTransmissionCodec.DecodeDataOffset(U64(0x0000_0001_0000_0200)));
    }

    [Fact]
    public void Hole_yields_offset_and_size()
    {
        var payload = Concat(U64(0x0000_0002_0000_0000), U32(65536));

        var (offset, size) = NbdTransmissionCodec.DecodeHole(payload);

        Assert.Equal(0x0000_0002_0000_0000UL, offset);
        Assert.Equal(65536u, size);
    }

    [Fact]
    public void Hole_of_size_zero_is_refused()
    {
        var payload = Concat(U64(4096), U32(0));

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeHole(payload));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(0)]
    public void Hole_payload_not_exactly_12_bytes_is_refused(int length)
    {
        var payload = Enumerable.Repeat((byte)1, length).ToArray();

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeHole(payload));
    }

    [Fact]
    public void Error_chunk_yields_errno_and_message()
    {
        var payload = Concat(U32(28), U16(13), Ascii("No space left"));

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8001);

        Assert.Equal(28u, error.Errno);
        Assert.Equal("No space left", error.Message);
        Assert.Null(error.Offset);
    }

    [Fact]
    public void Error_chunk_without_message_has_an_empty_message()
    {
        var payload = Concat(U32(5), U16(0));

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8001);

        Assert.Equal(5u, error.Errno);
        Assert.Equal(string.Empty, error.Message);
    }

    [Fact]
    public void Error_offset_chunk_yields_the_offset_after_the_message()
    {
        var payload = Concat(U32(5), U16(3), Ascii("bad"), U64(0x0000_0000_8000_1000));

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8002);

        Assert.Equal(5u, error.Errno);
        Assert.Equal("bad", error.Message);
        Assert.Equal(0x0000_0000_8000_1000UL, error.Offset);
    }

    [Fact]
    public void Error_message_is_utf8()
    {
        var message = Encoding.UTF8.GetBytes("défaut");
        var payload = Concat(U32(5), U16(message.Length), message);

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8001);

        Assert.Equal("défaut", error.Message);
    }

    [Fact]
    public void Error_chunk_whose_message_length_overruns_the_payload_is_refused()
    {
        var payload = Concat(U32(5), U16(10), Ascii("short"));

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeError(payload, 0x8001));
    }

    [Fact]
    public void Error_offset_chunk_without_room_for_the_offset_is_refused()
    {
        var payload = Concat(U32(5), U16(3), Ascii("bad"), U32(0));

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeError(payload, 0x8002));
    }

    [Fact]
    public void Error_chunk_with_bytes_left_after_the_message_is_refused()
    {
        var payload = Concat(U32(5), U16(3), Ascii("bad"), [0, 0]);

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeError(payload, 0x8001));
    }

    [Fact]
    public void Error_chunk_shorter_than_errno_and_message_length_is_refused()
    {
        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeError(Concat(U32(5), [0]), 0x8001));
    }

    [Fact]
    public void Unknown_error_chunk_type_is_decoded_with_its_errno_and_message()
    {
        // Unknown types with bit 15 share the errno/message prefix; the rest is theirs.
        var payload = Concat(U32(1), U16(2), Ascii("no"), [9, 9, 9]);

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8123);

        Assert.Equal(1u, error.Errno);
        Assert.Equal("no", error.Message);
        Assert.Null(error.Offset);
    }

    [Fact]
    public void Unknown_error_chunk_type_whose_message_overruns_the_payload_is_refused()
    {
        var payload = Concat(U32(1), U16(9), Ascii("no"));

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeError(payload, 0x8123));
    }

    [Fact]
    public void Error_chunk_with_an_errno_the_protocol_does_not_define_reads_as_EINVAL()
    {
        // NBD-CLIENT.md: "Errors: EPERM 1, EIO 5, …, ESHUTDOWN 108; unknown → EINVAL".
        // 61 is Linux ENODATA, not an NBD error value.
        var payload = Concat(U32(61), U16(0));

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8001);

        Assert.Equal(22u, error.Errno);
    }

    [Fact]
    public void Error_chunk_with_errno_zero_reads_as_EINVAL()
    {
        // The spec says the error MUST be nonzero; a zero must not turn an error into success.
        var payload = Concat(U32(0), U16(0));

        var error = NbdTransmissionCodec.DecodeError(payload, 0x8001);

        Assert.Equal(22u, error.Errno);
    }

    [Fact]
    public void Block_status_extents_get_absolute_offsets_from_the_request_offset()
    {
        // Arrange: request [64 KiB, +12 KiB), extents 4 KiB HOLE|ZERO then 8 KiB allocated.
        var payload = Concat(U32(7), U32(0x1000), U32(3), U32(0x2000), U32(0));
        var extents = new List<NbdExtent>();

        // Act
        var contextId = NbdTransmissionCodec.DecodeBlockStatus(payload, 0x10000, 0x13000, extents);

        // Assert
        Assert.Equal(7u, contextId);
        Assert.Equal([new NbdExtent(0x10000, 0x1000, 3), new NbdExtent(0x11000, 0x2000, 0)], extents);
    }

    [Fact]
    public void Block_status_extent_past_request_end_is_clamped()
    {
        // Request [64 KiB, +6 KiB): the second 4 KiB extent overshoots by 2 KiB.
        var payload = Concat(U32(1), U32(0x1000), U32(1), U32(0x1000), U32(2));
        var extents = new List<NbdExtent>();

        NbdTransmissionCodec.DecodeBlockStatus(payload, 0x10000, 0x11800, extents);

        Assert.Equal([new NbdExtent(0x10000, 0x1000, 1), new NbdExtent(0x11000, 0x800, 2)], extents);
    }

    [Fact]
    public void Block_status_extents_wholly_past_request_end_are_dropped()
    {
        // Request [0, +4 KiB): only the first extent lies inside.
        var payload = Concat(U32(1), U32(0x1000), U32(0), U32(0x1000), U32(1), U32(0x1000), U32(0));
        var extents = new List<NbdExtent>();

        NbdTransmissionCodec.DecodeBlockStatus(payload, 0, 0x1000, extents);

        Assert.Equal([new NbdExtent(0, 0x1000, 0)], extents);
    }

    [Fact]
    public void Block_status_reply_covering_less_than_the_request_is_kept_short()
    {
        // The server may answer for less than asked; the caller asks again from the end.
        var payload = Concat(U32(1), U32(0x200), U32(1));
        var extents = new List<NbdExtent>();

        NbdTransmissionCodec.DecodeBlockStatus(payload, 0x1000, 0x3000, extents);

        Assert.Equal([new NbdExtent(0x1000, 0x200, 1)], extents);
    }

    [Fact]
    public void Block_status_extent_lengths_above_2_GiB_keep_exact_offsets()
    {
        // u32 lengths near 4 GiB: offsets must be computed in 64 bits.
        var payload = Concat(U32(1), U32(0xffff_fe00), U32(0), U32(0xffff_fe00), U32(1));
        var extents = new List<NbdExtent>();

        NbdTransmissionCodec.DecodeBlockStatus(payload, 0x1_0000_0000, 0x1_0000_0000 + (2 * 0xffff_fe00UL), extents);

        Assert.Equal([new NbdExtent(0x1_0000_0000, 0xffff_fe00, 0), new NbdExtent(0x1_ffff_fe00, 0xffff_fe00, 1)], extents);
    }

    [Fact]
    public void Block_status_zero_length_extent_is_refused()
    {
        var payload = Concat(U32(1), U32(0x1000), U32(0), U32(0), U32(0));
        var extents = new List<NbdExtent>();

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeBlockStatus(payload, 0, 0x10000, extents));
    }

    [Theory]
    [InlineData(0)] // nothing at all
    [InlineData(4)] // context id without any extent: the server MUST send at least one
    [InlineData(8)] // half an extent
    [InlineData(13)] // one extent and a stray byte
    [InlineData(16)] // one and a half extents
    public void Block_status_with_a_malformed_payload_length_is_refused(int length)
    {
        var payload = Concat(U32(1), Enumerable.Repeat((byte)1, 32).ToArray())[..length];
        var extents = new List<NbdExtent>();

        Assert.Throws<NbdException>(() => NbdTransmissionCodec.DecodeBlockStatus(payload, 0, 0x10000, extents));
    }
}
