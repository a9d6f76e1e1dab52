using System.Text.Json.Nodes;
using OfflineExport.Nbd;
using OfflineExport.Qemu;
using OfflineExport.Qmp;

namespace OfflineExport.Export;

/// <content>The qemu-storage-daemon part: block graph, temporary bitmap, NBD exports and the copy.</content>
public sealed partial class ExportSession
{
    private const string TargetNode = "target";
    private const string TargetFileNode = "target-file";

    /// <summary>Largest WRITE_ZEROES request (no payload, so it may be far above the READ/WRITE maximum).</summary>
    private const ulong MaximumZeroRequest = 1UL << 30;

    private async Task<(ExportTotals Totals, CopyStatistics? Statistics)> CopyThroughDaemonAsync(
        StorageDaemon daemon,
        ValidatedChain chain,
        string? previous,
        string? partial,
        IProgress<ExportProgress>? progress,
        CancellationToken cancellationToken)
    {
        try
        {
            var dirtyContext = await OpenSourceAsync(daemon.Qmp, chain, cancellationToken).ConfigureAwait(false);
            await daemon.Qmp.NbdServerStartAsync(daemon.NbdSocket, cancellationToken).ConfigureAwait(false);
            var bitmaps = dirtyContext is null ? Array.Empty<string>() : [dirtyContext[NbdProtocol.DirtyBitmapContextPrefix.Length..]];
            await daemon.Qmp.BlockExportAddNbdAsync(SourceExport, chain.Top.NodeName, writable: false, bitmaps, cancellationToken).ConfigureAwait(false);
            await using var nbd = await ExportConnections.OpenAsync(daemon.NbdSocket, dirtyContext, _options.MaxInFlight, _options.ProgressTimeout, cancellationToken).ConfigureAwait(false);
            if (dirtyContext is not null && previous is not null)
            {
                // Metadata only, before anything is measured or written: a wrong incremental is never made.
                await UntrackedChangeCheck.RunAsync(daemon.Qmp, daemon.NbdSocket, previous, nbd.Source, nbd.DirtyScanner!, dirtyContext,
                    chain.MergeSources.Select(s => s.Bitmap).Distinct().ToList(), nbd.Source.Export.Size, _options.ProgressTimeout, _options.Log, cancellationToken).ConfigureAwait(false);
            }

            var requestSize = (int)Math.Min((uint)_options.RequestSize, nbd.Source.Export.MaximumBlockSize);
            var planner = new ExportPlanner(nbd.DirtyScanner, dirtyContext, nbd.Source, nbd.Source.Export.Size, (ulong)requestSize, MaximumZeroRequest);
            if (partial is null)
            {
                var totals = await planner.MeasureAsync(cancellationToken).ConfigureAwait(false);
                await nbd.FinishAsync(cancellationToken).ConfigureAwait(false);
                await StopAsync(daemon, cancellationToken).ConfigureAwait(false);
                return (totals, null);
            }

            // Measured before the target opens: how much will be written decides how it is opened.
            var work = await planner.MeasureWorkAsync(cancellationToken).ConfigureAwait(false);
            await OpenTargetAsync(daemon.Qmp, partial, work, cancellationToken).ConfigureAwait(false);
            await daemon.Qmp.BlockExportAddNbdAsync(TargetExport, TargetNode, writable: true, [], cancellationToken).ConfigureAwait(false);
            await nbd.ConnectTargetAsync(daemon.NbdSocket, _options.MaxInFlight, cancellationToken).ConfigureAwait(false);
            var engine = new CopyEngine(nbd.Source, nbd.Target!, _options.MaxInFlight, requestSize, targetHasBacking: chain.MergeSources.Count > 0, progress);
            var statistics = await engine.RunAsync(planner.PlanAsync(cancellationToken), work, cancellationToken).ConfigureAwait(false);
            await nbd.FinishAsync(cancellationToken).ConfigureAwait(false);
            await StopAsync(daemon, cancellationToken).ConfigureAwait(false);
            return (new ExportTotals(statistics.PlannedData, statistics.PlannedZero), statistics);
        }
        catch (QmpException ex) when (QemuImg.IsLockError(ex.Description))
        {
            throw OfflineExportException.ImageInUse(chain.Top.Path, ex.Description);
        }
        catch (NbdException ex) when (ex.IsNoSpace && partial is not null)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem,
                $"no space left on the file system of {Path.GetDirectoryName(partial)}: the backup did not fit ({ex.Message})", ex);
        }
        catch (Exception ex) when (ex is NbdException or QmpException or QmpProtocolException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // A broken socket usually means a daemon died a moment ago: report the daemon's own words.
            if (await daemon.HasDiedAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false))
            {
                throw daemon.DescribeDeath(ex);
            }

            throw;
        }
    }

    /// <summary>Asks the daemon to quit (it flushes and closes every node); a non-zero exit means the output may be incomplete.</summary>
    private static async Task StopAsync(StorageDaemon daemon, CancellationToken cancellationToken)
    {
        if (await daemon.StopAsync(DaemonStopTimeout, cancellationToken).ConfigureAwait(false) != 0)
        {
            throw daemon.DescribeDeath();
        }
    }

    /// <summary>
    /// Opens the chain bottom-up with explicit formats, read-only, and merges the checkpoints into a
    /// temporary bitmap. Returns the dirty-bitmap context name (null for a full export).
    /// </summary>
    private async Task<string?> OpenSourceAsync(QmpClient qmp, ValidatedChain chain, CancellationToken cancellationToken)
    {
        for (var i = chain.Layers.Count - 1; i >= 0; i--)
        {
            var layer = chain.Layers[i];
            await qmp.BlockdevAddAsync(FileNode(layer.FileNodeName, layer.Path, readOnly: true, direct: _options.CacheDirect == CacheDirectScope.All), cancellationToken).ConfigureAwait(false);
            var format = new JsonObject
            {
                ["driver"] = layer.Format,
                ["node-name"] = layer.NodeName,
                ["file"] = layer.FileNodeName,
                ["read-only"] = true,
            };
            if (layer.Format == "qcow2")
            {
                // Explicit backing (or none): qemu must not open anything by itself on the source side.
                format["backing"] = i + 1 < chain.Layers.Count ? chain.Layers[i + 1].NodeName : null;
            }

            await qmp.BlockdevAddAsync(format, cancellationToken).ConfigureAwait(false);
        }

        if (chain.MergeSources.Count == 0)
        {
            return null;
        }

        var bitmap = "offline-export-" + Guid.NewGuid().ToString("N")[..12];
        var sources = chain.MergeSources.Select(s => (s.Layer.NodeName, s.Bitmap));
        await qmp.AddMergedBitmapAsync(chain.Top.NodeName, bitmap, (int)chain.Granularity, sources, cancellationToken).ConfigureAwait(false);
        return NbdProtocol.DirtyBitmapContextPrefix + bitmap;
    }

    /// <summary>
    /// Opens the partial output writable. Its backing file (the previous backup) opens from its header,
    /// with the format we recorded there: partial-cluster writes need it for copy-on-write.
    /// </summary>
    private async Task OpenTargetAsync(QmpClient qmp, string partial, ulong work, CancellationToken cancellationToken)
    {
        var direct = _options.CacheDirect == CacheDirectScope.All
            || (_options.CacheDirect == CacheDirectScope.Output && work >= _options.OutputDirectMinimum);
        try
        {
            await qmp.BlockdevAddAsync(FileNode(TargetFileNode, partial, readOnly: false, direct), cancellationToken).ConfigureAwait(false);
        }
        catch (QmpException ex) when (_options.CacheDirect == CacheDirectScope.All && ex.Description.Contains("O_DIRECT", StringComparison.Ordinal))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem,
                $"{ex.Description}; Daemon:CacheDirect=all needs O_DIRECT on the output's file system (output or none work everywhere)", ex);
        }
        catch (QmpException ex) when (direct && _options.CacheDirect == CacheDirectScope.Output)
        {
            // Some file systems (ramfs, for one) refuse O_DIRECT: write through the page cache there.
            // A failure that has nothing to do with O_DIRECT fails the retry the same way and is reported then.
            _options.Log?.Invoke($"output: O_DIRECT refused ({ex.Description}); writing through the page cache");
            await qmp.BlockdevAddAsync(FileNode(TargetFileNode, partial, readOnly: false, direct: false), cancellationToken).ConfigureAwait(false);
        }

        var target = new JsonObject
        {
            ["driver"] = "qcow2",
            ["node-name"] = TargetNode,
            ["file"] = TargetFileNode,
            ["read-only"] = false,
        };
        await qmp.BlockdevAddAsync(target, cancellationToken).ConfigureAwait(false);
    }

    private JsonObject FileNode(string nodeName, string path, bool readOnly, bool direct)
    {
        var node = new JsonObject
        {
            ["driver"] = "file",
            ["node-name"] = nodeName,
            ["filename"] = path,
            ["read-only"] = readOnly,
        };
        if (direct)
        {
            node["cache"] = new JsonObject { ["direct"] = true };
        }

        return node;
    }
}
