namespace OfflineExport.Nbd;

/// <summary>Transmission request types (u16).</summary>
public enum NbdCommandType : ushort
{
    /// <summary>Read data.</summary>
    Read = 0,

    /// <summary>Write data (payload follows the header).</summary>
    Write = 1,

    /// <summary>Disconnect: no reply.</summary>
    Disconnect = 2,

    /// <summary>Flush written data to stable storage.</summary>
    Flush = 3,

    /// <summary>Discard a range (never used by this tool: see ARCHITECTURE.md).</summary>
    Trim = 4,

    /// <summary>Prefetch a range.</summary>
    Cache = 5,

    /// <summary>Write zeroes without a payload.</summary>
    WriteZeroes = 6,

    /// <summary>Query metadata contexts over a range.</summary>
    BlockStatus = 7,
}
