namespace OfflineExport.Nbd;

/// <summary>A decoded structured reply chunk header (the 20 bytes before the payload).</summary>
/// <param name="Flags">Chunk flags; bit 0 is DONE.</param>
/// <param name="Type">The chunk type.</param>
/// <param name="Cookie">The cookie of the request this chunk answers.</param>
/// <param name="Length">Payload length in bytes.</param>
public readonly record struct NbdChunkHeader(ushort Flags, ushort Type, ulong Cookie, uint Length)
{
    /// <summary>True on the last chunk of a reply.</summary>
    public bool IsDone => (Flags & NbdProtocol.ReplyFlagDone) != 0;

    /// <summary>True for error chunk types (bit 15 set).</summary>
    public bool IsError => (Type & NbdProtocol.ReplyTypeErrorBit) != 0;
}
