namespace OfflineExport.Nbd;

/// <summary>The protocol document's names of request types, for messages.</summary>
public static class NbdCommandNames
{
    /// <summary>"READ", "WRITE_ZEROES", … as the NBD protocol document spells them.</summary>
    public static string Of(NbdCommandType type) => type switch
    {
        NbdCommandType.Read => "READ",
        NbdCommandType.Write => "WRITE",
        NbdCommandType.Disconnect => "DISC",
        NbdCommandType.Flush => "FLUSH",
        NbdCommandType.Trim => "TRIM",
        NbdCommandType.Cache => "CACHE",
        NbdCommandType.WriteZeroes => "WRITE_ZEROES",
        NbdCommandType.BlockStatus => "BLOCK_STATUS",
        _ => $"command {(ushort)type}",
    };
}
