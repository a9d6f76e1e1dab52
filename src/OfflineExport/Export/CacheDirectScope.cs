namespace OfflineExport.Export;

/// <summary>Which image files the daemon opens with O_DIRECT (<c>cache.direct</c>), bypassing the host page cache.</summary>
public enum CacheDirectScope
{
    /// <summary>None: every read and write goes through the page cache.</summary>
    None,

    /// <summary>
    /// The output only, where its file system allows it (tmpfs, for one, does not: then the page cache).
    /// Measured (README, Performance): writes reach the disk while the copy runs instead of all at the
    /// final flush; the source stays cached.
    /// </summary>
    Output,

    /// <summary>Source chain and output, with no fallback (qemu's native AIO needs this).</summary>
    All,
}
