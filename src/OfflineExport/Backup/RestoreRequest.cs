namespace OfflineExport.Backup;

/// <summary>Restore one disk of a backup folder to one point.</summary>
public sealed record RestoreRequest
{
    /// <summary>The backup folder.</summary>
    public required string Folder { get; init; }

    /// <summary>The standalone qcow2 to write.</summary>
    public required string Output { get; init; }

    /// <summary>The point number (null: the latest).</summary>
    public int? Point { get; init; }

    /// <summary>The disk name (null: the folder's only disk).</summary>
    public string? Disk { get; init; }

    /// <summary>Replace OUTPUT if it exists.</summary>
    public bool Force { get; init; }
}
