using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>How exports run: tools, tuning and logging. Defaults are the best measured settings (docs/PERFORMANCE.md).</summary>
public sealed record ExportOptions
{
    /// <summary>The qemu programs.</summary>
    public QemuTools Tools { get; init; } = new();

    /// <summary>
    /// Largest READ/WRITE request in bytes (capped by the server's maximum). 1 MiB with 8 in flight: with the
    /// daemon's buffers kept in its heap (<see cref="Qemu.StorageDaemon.MallocTunables"/>), a full export 0.94
    /// of 512 KiB's time and incrementals the same (docs/PERFORMANCE.md, session 27); without that, every
    /// 1 MiB buffer was faulted in afresh and 512 KiB had won. Buffers: 8 MiB.
    /// </summary>
    public int RequestSize { get; init; } = 1 << 20;

    /// <summary>Requests in flight at once.</summary>
    public int MaxInFlight { get; init; } = 8;

    /// <summary>Which image files are opened with O_DIRECT.</summary>
    public CacheDirectScope CacheDirect { get; init; } = CacheDirectScope.Output;

    /// <summary>
    /// Under <see cref="CacheDirectScope.Output"/>, the fewest bytes to copy or zero for which the output
    /// is opened with O_DIRECT. Measured (docs/PERFORMANCE.md): from ~600 MiB on, O_DIRECT is clearly
    /// faster; at 64 MiB the page cache is as fast, and much faster when the writes are spread over a
    /// huge disk (qcow2 then flushes many metadata tables, one synchronous write each under O_DIRECT).
    /// </summary>
    public ulong OutputDirectMinimum { get; init; } = 256UL << 20;

    /// <summary>
    /// How long any qemu operation may go without progress before it fails (exit 8) and is cleaned up:
    /// a qemu-img with no I/O and no CPU, a QMP command or an NBD request with no reply.
    /// </summary>
    public TimeSpan ProgressTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the daemon may take to open its monitor.</summary>
    public TimeSpan DaemonStartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Parent of the private temporary folder for sockets (system temp folder when null).</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>The libvirt connection for <c>backup --domain</c> when the request names none (<c>Libvirt:Uri</c>).</summary>
    public string LibvirtUri { get; init; } = "qemu:///system";

    /// <summary>Receives a line per qemu command, QMP message and daemon output line (for <c>--verbose</c>).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>A qemu-img wrapper for the configured program (resolved now: a missing one fails here) and log.</summary>
    public QemuImg CreateQemuImg() => new(Tools.Resolve().QemuImg, Log, ProgressTimeout);
}
