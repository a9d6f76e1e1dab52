namespace OfflineExport.Backup;

/// <summary>Whether a backup run shut its domain down (and which, by UUID): only that domain does <c>--start</c> start again.</summary>
internal sealed class LibvirtShutdown
{
    /// <summary>The UUID of the domain this run shut down, or null.</summary>
    public string? Uuid { get; set; }
}
