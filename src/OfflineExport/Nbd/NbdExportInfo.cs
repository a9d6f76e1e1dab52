namespace OfflineExport.Nbd;

/// <summary>What the server told about the selected export during the handshake.</summary>
/// <param name="Name">The export name.</param>
/// <param name="Size">Export size in bytes.</param>
/// <param name="Flags">Transmission flags.</param>
/// <param name="MinimumBlockSize">Smallest request granularity.</param>
/// <param name="PreferredBlockSize">Preferred request granularity.</param>
/// <param name="MaximumBlockSize">Largest READ/WRITE payload the server accepts.</param>
/// <param name="MetaContexts">Granted metadata contexts: name to the server's id.</param>
public sealed record NbdExportInfo(
    string Name,
    ulong Size,
    NbdTransmissionFlags Flags,
    uint MinimumBlockSize,
    uint PreferredBlockSize,
    uint MaximumBlockSize,
    IReadOnlyDictionary<string, uint> MetaContexts)
{
    /// <summary>True when writes are refused.</summary>
    public bool IsReadOnly => Flags.HasFlag(NbdTransmissionFlags.ReadOnly);

    /// <summary>True when FLUSH is supported.</summary>
    public bool CanFlush => Flags.HasFlag(NbdTransmissionFlags.SendFlush);

    /// <summary>True when WRITE_ZEROES is supported.</summary>
    public bool CanWriteZeroes => Flags.HasFlag(NbdTransmissionFlags.SendWriteZeroes);

    /// <summary>True when several connections may be used at once consistently.</summary>
    public bool CanMultiConn => Flags.HasFlag(NbdTransmissionFlags.CanMultiConn);

    /// <summary>The server honours NBD_CMD_FLAG_DF (a READ answered in one chunk).</summary>
    public bool CanDontFragment => Flags.HasFlag(NbdTransmissionFlags.SendDontFragment);
}
