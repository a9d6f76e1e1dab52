using OfflineExport.Nbd;
using static OfflineExport.Tests.Nbd.Wire;

namespace OfflineExport.Tests.Nbd;

public class NbdHandshakeCodecTests
{
    // The option reply magic from the spec: 0x3e889045565a9, sent as a u64.
    private static readonly byte[] OptionReplyMagic = [0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9];

    [Fact]
    public void Greeting_from_a_fixed_newstyle_server_yields_its_handshake_flags()
    {
        // Arrange: "NBDMAGIC", "IHAVEOPT", flags FIXED_NEWSTYLE | NO_ZEROES (what qemu sends).
        var greeting = Concat(Ascii("NBDMAGIC"), Ascii("IHAVEOPT"), [0x00, 0x03]);

        // Act
        var flags = NbdHandshakeCodec.DecodeGreeting(greeting);

        // Assert
        Assert.Equal(3, flags);
    }

    [Fact]
    public void Greeting_with_bad_NBDMAGIC_is_refused()
    {
        var greeting = Concat(Ascii("NBDMAGIX"), Ascii("IHAVEOPT"), [0x00, 0x03]);

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeGreeting(greeting));
    }

    [Fact]
    public void Greeting_with_bad_IHAVEOPT_is_refused()
    {
        // Oldstyle servers send cliserv_magic 0x00420281861253 instead of IHAVEOPT.
        var greeting = Concat(Ascii("NBDMAGIC"), U64(0x00420281861253), [0x00, 0x03]);

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeGreeting(greeting));
    }

    [Fact]
    public void Greeting_without_the_fixed_newstyle_flag_is_refused()
    {
        var greeting = Concat(Ascii("NBDMAGIC"), Ascii("IHAVEOPT"), [0x00, 0x02]);

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeGreeting(greeting));
    }

    [Fact]
    public void Greeting_of_the_wrong_length_is_refused()
    {
        var greeting = Concat(Ascii("NBDMAGIC"), Ascii("IHAVEOPT"), [0x00]);

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeGreeting(greeting));
    }

    [Theory]
    [InlineData(0x0001, 0x00000001u)] // FIXED_NEWSTYLE only: C_FIXED_NEWSTYLE only
    [InlineData(0x0003, 0x00000003u)] // NO_ZEROES offered: C_NO_ZEROES too
    [InlineData(0xfffd, 0x00000001u)] // unknown server bits are ignored, never echoed
    [InlineData(0xffff, 0x00000003u)]
    public void Client_flags_only_claim_known_bits_the_server_offers(int serverFlags, uint expected)
    {
        var flags = NbdHandshakeCodec.ChooseClientFlags((ushort)serverFlags);

        Assert.Equal(expected, flags);
    }

    [Fact]
    public void Option_is_encoded_as_IHAVEOPT_option_length_data()
    {
        var data = new byte[] { 0xde, 0xad, 0xbe };

        var bytes = NbdHandshakeCodec.EncodeOption(7, data);

        Assert.Equal(Concat(Ascii("IHAVEOPT"), U32(7), U32(3), data), bytes);
    }

    [Fact]
    public void Option_without_data_has_a_zero_length_and_nothing_after_it()
    {
        var bytes = NbdHandshakeCodec.EncodeOption(8, []);

        Assert.Equal(Concat(Ascii("IHAVEOPT"), U32(8), U32(0)), bytes);
    }

    [Fact]
    public void Set_meta_context_data_is_export_name_then_counted_queries()
    {
        var bytes = NbdHandshakeCodec.EncodeMetaContextData("disk0", ["base:allocation", "qemu:dirty-bitmap:b1"]);

        var expected = Concat(
            U32(5), Ascii("disk0"),
            U32(2),
            U32(15), Ascii("base:allocation"),
            U32(20), Ascii("qemu:dirty-bitmap:b1"));
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Set_meta_context_lengths_count_utf8_bytes_not_characters()
    {
        var bytes = NbdHandshakeCodec.EncodeMetaContextData("é", ["x:ü"]);

        // "é" and "ü" are two bytes each in UTF-8.
        var expected = Concat(U32(2), [0xc3, 0xa9], U32(1), U32(4), Ascii("x:"), [0xc3, 0xbc]);
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Go_data_is_export_name_then_counted_u16_info_requests()
    {
        var bytes = NbdHandshakeCodec.EncodeGoData("disk0", [3]);

        Assert.Equal(Concat(U32(5), Ascii("disk0"), U16(1), U16(3)), bytes);
    }

    [Fact]
    public void Go_data_without_info_requests_ends_with_a_zero_count()
    {
        var bytes = NbdHandshakeCodec.EncodeGoData(string.Empty, []);

        Assert.Equal(Concat(U32(0), U16(0)), bytes);
    }

    [Fact]
    public void Option_reply_header_is_decoded()
    {
        var header = Concat(OptionReplyMagic, U32(10), U32(4), U32(19));

        var reply = NbdHandshakeCodec.DecodeOptionReply(header, 10);

        Assert.Equal(new NbdOptionReply(10, 4, 19), reply);
        Assert.False(reply.IsError);
    }

    [Fact]
    public void Option_reply_with_bit_31_is_an_error()
    {
        // NBD_REP_ERR_UNKNOWN = 2^31 + 6
        var header = Concat(OptionReplyMagic, U32(7), U32(0x80000006), U32(0));

        var reply = NbdHandshakeCodec.DecodeOptionReply(header, 7);

        Assert.True(reply.IsError);
    }

    [Fact]
    public void Option_reply_with_bad_magic_is_refused()
    {
        var header = Concat(Ascii("IHAVEOPT"), U32(7), U32(1), U32(0));

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeOptionReply(header, 7));
    }

    [Fact]
    public void Option_reply_for_another_option_is_refused()
    {
        var header = Concat(OptionReplyMagic, U32(8), U32(1), U32(0));

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeOptionReply(header, 7));
    }

    [Fact]
    public void Option_reply_longer_than_the_limit_is_refused()
    {
        var header = Concat(OptionReplyMagic, U32(7), U32(3), U32((uint)NbdHandshakeCodec.MaxOptionReplyLength + 1));

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeOptionReply(header, 7));
    }

    [Fact]
    public void Option_reply_header_of_the_wrong_length_is_refused()
    {
        var header = Concat(OptionReplyMagic, U32(7), U32(1));

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeOptionReply(header, 7));
    }

    [Fact]
    public void Meta_context_reply_yields_id_and_name()
    {
        var data = Concat(U32(0x01020304), Ascii("qemu:dirty-bitmap:b1"));

        var (id, name) = NbdHandshakeCodec.DecodeMetaContext(data);

        Assert.Equal(0x01020304u, id);
        Assert.Equal("qemu:dirty-bitmap:b1", name);
    }

    [Fact]
    public void Meta_context_reply_shorter_than_its_id_is_refused()
    {
        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeMetaContext([0, 0, 1]));
    }

    [Fact]
    public void Info_type_is_the_leading_u16()
    {
        Assert.Equal(3, NbdHandshakeCodec.DecodeInfoType(Concat(U16(3), U32(1))));
        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeInfoType([0]));
    }

    [Fact]
    public void Info_export_yields_size_and_transmission_flags()
    {
        // HAS_FLAGS (bit 0) | READ_ONLY (bit 1) | CAN_MULTI_CONN (bit 8)
        var data = Concat(U16(0), U64(0x0000_0102_0304_0506), U16(0x0103));

        var (size, flags) = NbdHandshakeCodec.DecodeInfoExport(data);

        Assert.Equal(0x0000_0102_0304_0506UL, size);
        Assert.Equal(0x0103, (int)flags);
        Assert.True(flags.HasFlag(NbdTransmissionFlags.ReadOnly));
        Assert.True(flags.HasFlag(NbdTransmissionFlags.CanMultiConn));
        Assert.False(flags.HasFlag(NbdTransmissionFlags.SendFlush));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Info_export_of_the_wrong_length_is_refused(int length)
    {
        var data = new byte[length];

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeInfoExport(data));
    }

    [Fact]
    public void Info_block_size_yields_minimum_preferred_maximum()
    {
        // What qemu sends: 1 / 4096 / 32 MiB.
        var data = Concat(U16(3), U32(1), U32(4096), U32(32u << 20));

        var (minimum, preferred, maximum) = NbdHandshakeCodec.DecodeInfoBlockSize(data);

        Assert.Equal(1u, minimum);
        Assert.Equal(4096u, preferred);
        Assert.Equal(32u << 20, maximum);
    }

    [Theory]
    [InlineData(0u, 4096u, 65536u)] // minimum of zero
    [InlineData(4096u, 512u, 65536u)] // preferred below minimum
    [InlineData(512u, 4096u, 2048u)] // maximum below preferred
    public void Info_block_size_with_inconsistent_sizes_is_refused(uint minimum, uint preferred, uint maximum)
    {
        var data = Concat(U16(3), U32(minimum), U32(preferred), U32(maximum));

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeInfoBlockSize(data));
    }

    [Fact]
    public void Info_block_size_of_the_wrong_length_is_refused()
    {
        var data = Concat(U16(3), U32(1), U32(4096));

        Assert.Throws<NbdException>(() => NbdHandshakeCodec.DecodeInfoBlockSize(data));
    }
}
