namespace OfflineExport.Export;

/// <summary>Which image files the daemon opens with O_DIRECT (<c>cache.direct</c>), bypassing the host page cache.</summary>
public enum CacheDirectScope
{
    /// <summary>None: every read and write goes through the page cache.</summary>
    None,

    /// <summary>
    /// The output only, for exports that write at least <see cref="ExportOptions.OutputDirectMinimum"/>
    /// and where the output's file system allows it (ramfs, for one, does not: then the page cache).
    /// Measured (README, Performance): the daemon skips the page-cache copy and the disk writes overlap
    /// the copy instead of all waiting for the final flush; the source stays cached.
    /// </summary>
    Output,

    /// <summary>Source chain and output, with no fallback (qemu's native AIO needs this).</summary>
    All,
}
