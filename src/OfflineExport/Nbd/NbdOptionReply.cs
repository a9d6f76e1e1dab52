namespace OfflineExport.Nbd;

/// <summary>A decoded option reply header (the 20 bytes before its data).</summary>
/// <param name="Option">The option being answered.</param>
/// <param name="Type">Reply type; bit 31 marks errors.</param>
/// <param name="Length">Length of the data that follows.</param>
public readonly record struct NbdOptionReply(uint Option, uint Type, uint Length)
{
    /// <summary>True for error replies.</summary>
    public bool IsError => (Type & NbdProtocol.RepErrorBit) != 0;
}
