namespace OfflineExport.Nbd;

/// <summary>
/// Numbers from the NBD protocol document (NetworkBlockDevice/nbd, doc/proto.md).
/// All integers on the wire are big-endian.
/// </summary>
public static class NbdProtocol
{
    /// <summary>"NBDMAGIC": first 8 bytes of the server greeting.</summary>
    public const ulong InitMagic = 0x4e42444d41474943;

    /// <summary>"IHAVEOPT": second greeting field, and the prefix of every client option.</summary>
    public const ulong OptionMagic = 0x49484156454F5054;

    /// <summary>Prefix of every option reply.</summary>
    public const ulong OptionReplyMagic = 0x0003e889045565a9;

    /// <summary>Prefix of every transmission request.</summary>
    public const uint RequestMagic = 0x25609513;

    /// <summary>Prefix of a simple reply.</summary>
    public const uint SimpleReplyMagic = 0x67446698;

    /// <summary>Prefix of a structured reply chunk.</summary>
    public const uint StructuredReplyMagic = 0x668e33ef;

    /// <summary>Server greeting length: u64 magic, u64 IHAVEOPT, u16 handshake flags.</summary>
    public const int GreetingLength = 18;

    /// <summary>Option header length: u64 IHAVEOPT, u32 option, u32 data length.</summary>
    public const int OptionHeaderLength = 16;

    /// <summary>Option reply header length: u64 magic, u32 option, u32 reply type, u32 data length.</summary>
    public const int OptionReplyHeaderLength = 20;

    /// <summary>Request length: u32 magic, u16 flags, u16 type, u64 cookie, u64 offset, u32 length.</summary>
    public const int RequestLength = 28;

    /// <summary>Simple reply length: u32 magic, u32 error, u64 cookie.</summary>
    public const int SimpleReplyLength = 16;

    /// <summary>Structured chunk header length: u32 magic, u16 flags, u16 type, u64 cookie, u32 length.</summary>
    public const int StructuredReplyHeaderLength = 20;

    /// <summary>Handshake flag: the server speaks fixed newstyle.</summary>
    public const ushort FlagFixedNewstyle = 1 << 0;

    /// <summary>Handshake flag: the server can omit the 124 zero bytes after EXPORT_NAME.</summary>
    public const ushort FlagNoZeroes = 1 << 1;

    /// <summary>Client flag: the client speaks fixed newstyle.</summary>
    public const uint ClientFlagFixedNewstyle = 1 << 0;

    /// <summary>Client flag: the client does not want the 124 zero bytes.</summary>
    public const uint ClientFlagNoZeroes = 1 << 1;

    /// <summary>Option: abort the handshake.</summary>
    public const uint OptAbort = 2;

    /// <summary>Option: ask for information about an export without entering transmission.</summary>
    public const uint OptInfo = 6;

    /// <summary>Option: select an export and enter transmission.</summary>
    public const uint OptGo = 7;

    /// <summary>Option: use structured replies in transmission.</summary>
    public const uint OptStructuredReply = 8;

    /// <summary>Option: select metadata contexts for block status.</summary>
    public const uint OptSetMetaContext = 10;

    /// <summary>Option reply: final acknowledgement.</summary>
    public const uint RepAck = 1;

    /// <summary>Option reply: an export description (LIST).</summary>
    public const uint RepServer = 2;

    /// <summary>Option reply: one information item (INFO/GO).</summary>
    public const uint RepInfo = 3;

    /// <summary>Option reply: a selected metadata context (u32 id + name).</summary>
    public const uint RepMetaContext = 4;

    /// <summary>Bit 31 marks an option reply as an error.</summary>
    public const uint RepErrorBit = 1u << 31;

    /// <summary>Info item: u64 size, u16 transmission flags.</summary>
    public const ushort InfoExport = 0;

    /// <summary>Info item: u32 minimum, preferred and maximum block size.</summary>
    public const ushort InfoBlockSize = 3;

    /// <summary>Structured chunk flag: the last chunk of its reply.</summary>
    public const ushort ReplyFlagDone = 1 << 0;

    /// <summary>Structured chunk types whose bit 15 is set are errors.</summary>
    public const ushort ReplyTypeErrorBit = 1 << 15;

    /// <summary>Metadata context for allocation: flag bit 0 HOLE, bit 1 ZERO.</summary>
    public const string BaseAllocationContext = "base:allocation";

    /// <summary>Prefix of QEMU's dirty-bitmap metadata contexts: flag bit 0 DIRTY.</summary>
    public const string DirtyBitmapContextPrefix = "qemu:dirty-bitmap:";

    /// <summary>base:allocation flag: the range is not allocated.</summary>
    public const uint StateHole = 1 << 0;

    /// <summary>base:allocation flag: the range reads as zeroes.</summary>
    public const uint StateZero = 1 << 1;

    /// <summary>qemu:dirty-bitmap flag: the range is dirty.</summary>
    public const uint StateDirty = 1 << 0;
}
