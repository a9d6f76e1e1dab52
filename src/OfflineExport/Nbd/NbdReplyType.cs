namespace OfflineExport.Nbd;

/// <summary>Structured reply chunk types (u16).</summary>
public enum NbdReplyType : ushort
{
    /// <summary>No payload; ends a reply.</summary>
    None = 0,

    /// <summary>u64 offset, then data.</summary>
    OffsetData = 1,

    /// <summary>u64 offset, u32 size: the range reads as zeroes.</summary>
    OffsetHole = 2,

    /// <summary>u32 context id, then n × (u32 length, u32 flags).</summary>
    BlockStatus = 5,

    /// <summary>u32 errno, u16 message length, message.</summary>
    Error = 32769,

    /// <summary>u32 errno, u16 message length, message, u64 offset.</summary>
    ErrorOffset = 32770,
}
