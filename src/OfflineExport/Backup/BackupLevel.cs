namespace OfflineExport.Backup;

/// <summary>What kind of point a backup run should make.</summary>
public enum BackupLevel
{
    /// <summary>Full for a disk's first run (or when its checkpoint cannot be used), incremental afterwards.</summary>
    Auto,

    /// <summary>A new full point: a new chain.</summary>
    Full,

    /// <summary>An incremental point since the disk's current checkpoint; fails without a chain.</summary>
    Inc,

    /// <summary>A differential point since the chain's full point, backed by it.</summary>
    Diff,
}
