namespace OfflineExport.Export;

/// <summary>What an export copies.</summary>
public enum ExportMode
{
    /// <summary>All allocated data: a standalone image with no backing file.</summary>
    Full,

    /// <summary>Clusters dirty in one checkpoint: an overlay on the previous backup.</summary>
    Incremental,

    /// <summary>Clusters dirty in any of several checkpoints (their union): an overlay on an older backup.</summary>
    Differential,
}
