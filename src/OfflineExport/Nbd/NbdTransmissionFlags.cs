namespace OfflineExport.Nbd;

/// <summary>Transmission flags the server sends with an export (u16).</summary>
[Flags]
public enum NbdTransmissionFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>Always set by a conforming server.</summary>
    HasFlags = 1 << 0,

    /// <summary>The export is read-only.</summary>
    ReadOnly = 1 << 1,

    /// <summary>FLUSH is supported.</summary>
    SendFlush = 1 << 2,

    /// <summary>The FUA flag is supported.</summary>
    SendFua = 1 << 3,

    /// <summary>The export is on a rotational medium.</summary>
    Rotational = 1 << 4,

    /// <summary>TRIM is supported.</summary>
    SendTrim = 1 << 5,

    /// <summary>WRITE_ZEROES is supported.</summary>
    SendWriteZeroes = 1 << 6,

    /// <summary>The DF flag is supported.</summary>
    SendDontFragment = 1 << 7,

    /// <summary>Several connections to this export see each other's writes and flushes.</summary>
    CanMultiConn = 1 << 8,

    /// <summary>RESIZE is supported.</summary>
    SendResize = 1 << 9,

    /// <summary>CACHE is supported.</summary>
    SendCache = 1 << 10,

    /// <summary>The FAST_ZERO flag is supported.</summary>
    SendFastZero = 1 << 11,
}
