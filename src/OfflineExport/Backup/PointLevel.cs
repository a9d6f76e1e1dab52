namespace OfflineExport.Backup;

/// <summary>The kind of a recorded point.</summary>
public enum PointLevel
{
    /// <summary>Standalone: all allocated data.</summary>
    Full,

    /// <summary>Changes since the previous point, backed by it.</summary>
    Inc,

    /// <summary>Changes since the chain's full point, backed by it.</summary>
    Diff,
}
