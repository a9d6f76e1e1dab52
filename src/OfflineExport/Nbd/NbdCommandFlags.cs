namespace OfflineExport.Nbd;

/// <summary>Transmission request flags (u16).</summary>
[Flags]
public enum NbdCommandFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>Force unit access.</summary>
    Fua = 1 << 0,

    /// <summary>WRITE_ZEROES: do not punch a hole.</summary>
    NoHole = 1 << 1,

    /// <summary>READ: do not fragment the reply.</summary>
    DontFragment = 1 << 2,

    /// <summary>BLOCK_STATUS: one extent per context is enough.</summary>
    RequestOne = 1 << 3,

    /// <summary>WRITE_ZEROES: fail rather than be slow.</summary>
    FastZero = 1 << 4,
}
