using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// The qemu-storage-daemon(s) of one export: either one daemon serving both NBD exports, or one for
/// the read-only source and one for the writable target. Two daemons run two main loops on two cores
/// (what iothreads would do, but NBD exports in iothreads abort qemu 7.2 when a client disconnects).
/// </summary>
public sealed class ExportDaemons : IAsyncDisposable
{
    private ExportDaemons(StorageDaemon source, StorageDaemon target, string sourceSocket, string targetSocket)
    {
        Source = source;
        Target = target;
        SourceSocket = sourceSocket;
        TargetSocket = targetSocket;
    }

    /// <summary>The daemon serving the source chain.</summary>
    public StorageDaemon Source { get; }

    /// <summary>The daemon serving the new backup (the same as <see cref="Source"/> unless split).</summary>
    public StorageDaemon Target { get; }

    /// <summary>The NBD socket of the source export.</summary>
    public string SourceSocket { get; }

    /// <summary>The NBD socket of the target export.</summary>
    public string TargetSocket { get; }

    /// <summary>True when source and target have a daemon each.</summary>
    public bool IsSplit => !ReferenceEquals(Source, Target);

    private IEnumerable<StorageDaemon> All => IsSplit ? [Source, Target] : [Source];

    /// <summary>Starts one daemon, or two when <paramref name="split"/>, each with its sockets in its own subfolder of <paramref name="workDirectory"/>.</summary>
    public static async Task<ExportDaemons> StartAsync(string executable, string workDirectory, bool split, ExportOptions options, CancellationToken cancellationToken)
    {
        var sourceFolder = Directory.CreateDirectory(Path.Combine(workDirectory, "source")).FullName;
        var source = await StorageDaemon.StartAsync(executable, sourceFolder, options.DaemonStartTimeout, options.ProgressTimeout, options.Log, cancellationToken).ConfigureAwait(false);
        if (!split)
        {
            var socket = Path.Combine(sourceFolder, "nbd.sock");
            return new ExportDaemons(source, source, socket, socket);
        }

        try
        {
            var targetFolder = Directory.CreateDirectory(Path.Combine(workDirectory, "target")).FullName;
            var target = await StorageDaemon.StartAsync(executable, targetFolder, options.DaemonStartTimeout, options.ProgressTimeout, options.Log, cancellationToken).ConfigureAwait(false);
            return new ExportDaemons(source, target, Path.Combine(sourceFolder, "nbd.sock"), Path.Combine(targetFolder, "nbd.sock"));
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The daemon that died without being asked to (waiting up to <paramref name="grace"/>), or null.</summary>
    public async Task<StorageDaemon?> FindDeadAsync(TimeSpan grace)
    {
        foreach (var daemon in All)
        {
            if (await daemon.HasDiedAsync(grace).ConfigureAwait(false))
            {
                return daemon;
            }
        }

        return null;
    }

    /// <summary>Asks every daemon to quit; a non-zero exit is a failure (the output may not be fully written).</summary>
    public async Task StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        foreach (var daemon in All)
        {
            var exitCode = await daemon.StopAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw daemon.DescribeDeath();
            }
        }
    }

    /// <summary>CPU time of the daemons so far.</summary>
    public TimeSpan CpuTime() => All.Aggregate(TimeSpan.Zero, (sum, d) => sum + d.CpuTime());

    /// <summary>Kills whatever still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var daemon in All)
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
        }
    }
}
