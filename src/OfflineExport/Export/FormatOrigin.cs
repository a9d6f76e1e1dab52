namespace OfflineExport.Export;

/// <summary>Who decided the top image's format (ARCHITECTURE.md, "Image formats").</summary>
public enum FormatOrigin
{
    /// <summary>The caller stated it: --format, or the domain XML's &lt;driver type&gt;.</summary>
    Stated,

    /// <summary>The backup folder recorded it at the disk's first point.</summary>
    Recorded,

    /// <summary>Nobody stated it: qemu guessed it from the file's first bytes.</summary>
    Detected,
}
