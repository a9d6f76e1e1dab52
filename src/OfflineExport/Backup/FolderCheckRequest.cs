namespace OfflineExport.Backup;

/// <summary>What <c>check</c> is asked.</summary>
public sealed record FolderCheckRequest
{
    /// <summary>The backup folder.</summary>
    public required string Folder { get; init; }

    /// <summary>--read-data: also read every point file whole and compare its SHA-256 with the recorded one.</summary>
    public bool ReadData { get; init; }
}
