namespace OfflineExport.Backup;

/// <summary>
/// Which backup folder a manifest belongs to: a random id (tagged into every checkpoint name the folder
/// creates) and the folder's own inode and birth time. A folder found at another inode, or born at another
/// time, is a copy (<c>cp -a</c>): it gets a new id, and the checkpoints of the folders it was copied from
/// are theirs, never its own.
/// </summary>
public sealed record FolderRecord
{
    /// <summary>32 random hex digits, made at the folder's first run (or the first run after it was copied).</summary>
    public required string Id { get; init; }

    /// <summary>The device of the folder when the id was made or last confirmed (a remount may change it; only the inode tells a copy).</summary>
    public ulong Device { get; init; }

    /// <summary>The folder's inode.</summary>
    public ulong Inode { get; init; }

    /// <summary>
    /// When the folder was created (nanoseconds since 1970), where the file system keeps it; null in records
    /// written before it was kept. A copy on a freshly made file system can get the original's inode number,
    /// never its birth time.
    /// </summary>
    public long? Born { get; init; }

    /// <summary>The ids of the folders this one was copied from, oldest first: their checkpoints are left alone.</summary>
    public IReadOnlyList<string> CopiedFrom { get; init; } = [];

    /// <summary>The part of <see cref="Id"/> that checkpoint names carry.</summary>
    public string Tag => Id[..CheckpointNames.TagLength];
}
