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
        ExportDaemons daemons,
        ValidatedChain chain,
        string? previous,
        string? partial,
        IProgress<ExportProgress>? progress,
        CancellationToken cancellationToken)
    {
        try
        {
            var dirtyContext = await OpenSourceAsync(daemons.Source.Qmp, chain, cancellationToken).ConfigureAwait(false);
            await daemons.Source.Qmp.NbdServerStartAsync(daemons.SourceSocket, cancellationToken).ConfigureAwait(false);
            var sourceThread = await IothreadAsync(daemons.Source.Qmp, "iothread-source", cancellationToken).ConfigureAwait(false);
            var bitmaps = dirtyContext is null ? Array.Empty<string>() : [dirtyContext[NbdProtocol.DirtyBitmapContextPrefix.Length..]];
            await daemons.Source.Qmp.BlockExportAddNbdAsync(SourceExport, chain.Top.NodeName, writable: false, bitmaps, sourceThread, cancellationToken).ConfigureAwait(false);
            using var pipes = partial is not null && _options.Splice ? CreatePipes() : null;
            var connections = Math.Max(1, _options.Connections);
            var perConnection = Math.Max(1, (_options.MaxInFlight + connections - 1) / connections);
            await using var nbd = await ExportConnections.OpenAsync(daemons.SourceSocket, dirtyContext, connections, perConnection, _options.ProgressTimeout, cancellationToken).ConfigureAwait(false);
            if (dirtyContext is not null && previous is not null)
            {
                // Metadata only, before anything is measured or written: a wrong incremental is never made.
                await UntrackedChangeCheck.RunAsync(daemons.Source.Qmp, daemons.SourceSocket, previous, nbd.Sources[0], nbd.DirtyScanner!, dirtyContext,
                    chain.MergeSources.Select(s => s.Bitmap).Distinct().ToList(), nbd.Sources[0].Export.Size, _options.ProgressTimeout, _options.Log, cancellationToken).ConfigureAwait(false);
            }

            var requestSize = (int)Math.Min((uint)_options.RequestSize, nbd.Sources[0].Export.MaximumBlockSize);
            if (pipes is not null)
            {
                requestSize = Math.Min(requestSize, pipes.MaxPayload);
            }

            var planner = new ExportPlanner(nbd.DirtyScanner, dirtyContext, nbd.Sources[0], nbd.Sources[0].Export.Size, (ulong)requestSize, MaximumZeroRequest);
            if (partial is null)
            {
                var totals = await planner.MeasureAsync(cancellationToken).ConfigureAwait(false);
                await nbd.FinishAsync(cancellationToken).ConfigureAwait(false);
                await daemons.StopAsync(DaemonStopTimeout, cancellationToken).ConfigureAwait(false);
                return (totals, null);
            }

            // Measured before the target opens: how much will be written decides how it is opened.
            var work = await planner.MeasureWorkAsync(cancellationToken).ConfigureAwait(false);
            await OpenTargetAsync(daemons.Target.Qmp, partial, detectZeroes: pipes is not null, work, cancellationToken).ConfigureAwait(false);
            if (daemons.IsSplit)
            {
                await daemons.Target.Qmp.NbdServerStartAsync(daemons.TargetSocket, cancellationToken).ConfigureAwait(false);
            }

            var targetThread = await IothreadAsync(daemons.Target.Qmp, "iothread-target", cancellationToken).ConfigureAwait(false);
            await daemons.Target.Qmp.BlockExportAddNbdAsync(TargetExport, TargetNode, writable: true, [], targetThread, cancellationToken).ConfigureAwait(false);
            await nbd.ConnectTargetsAsync(daemons.TargetSocket, perConnection, cancellationToken).ConfigureAwait(false);
            var engine = new CopyEngine(nbd.Sources, nbd.Targets, _options.MaxInFlight, requestSize, targetHasBacking: chain.MergeSources.Count > 0, progress, pipes?.Pipes);
            var statistics = await engine.RunAsync(planner.PlanAsync(cancellationToken), work, cancellationToken).ConfigureAwait(false);
            await nbd.FinishAsync(cancellationToken).ConfigureAwait(false);
            _options.Log?.Invoke($"copy done: {statistics.Requests} requests; CPU so far: daemon(s) {daemons.CpuTime().TotalSeconds:F2} s, offline-export {Environment.CpuUsage.TotalTime.TotalSeconds:F2} s (user {Environment.CpuUsage.UserTime.TotalSeconds:F2} s)");
            await daemons.StopAsync(DaemonStopTimeout, cancellationToken).ConfigureAwait(false);
            return (new ExportTotals(statistics.PlannedData, statistics.PlannedZero), statistics);
        }
        catch (QmpException ex) when (QemuImg.IsLockError(ex.Description))
        {
            throw new ImageInUseException(chain.Top.Path, ex.Description);
        }
        catch (NbdException ex) when (ex.IsNoSpace && partial is not null)
        {
            throw new ExportException(ExportErrorKind.OutputProblem,
                $"no space left on the file system of {Path.GetDirectoryName(partial)}: the backup did not fit ({ex.Message})", ex);
        }
        catch (Exception ex) when (ex is NbdException or QmpException or QmpProtocolException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // A broken socket usually means a daemon died a moment ago: report the daemon's own words.
            if (await daemons.FindDeadAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false) is { } dead)
            {
                throw dead.DescribeDeath(ex);
            }

            throw;
        }
    }

    private SplicePipeSet? CreatePipes()
    {
        var pipes = SplicePipeSet.TryCreate(Math.Max(1, _options.MaxInFlight), _options.RequestSize, out var reason);
        _options.Log?.Invoke(pipes is null
            ? $"splice: not available ({reason}); copying through memory"
            : $"splice: {pipes.Pipes.Count} pipes, payloads up to {pipes.MaxPayload} bytes");
        return pipes;
    }

    private async Task<string?> IothreadAsync(QmpClient qmp, string id, CancellationToken cancellationToken)
    {
        if (!_options.IoThreads)
        {
            return null;
        }

        // Measured on qemu 7.2: an NBD export in an iothread aborts the daemon when a client disconnects
        // (blockdev-nbd.c nbd_blockdev_client_closed: Assertion `qemu_in_main_thread()'). Refuse it there.
        if (int.TryParse(qmp.Greeting.Version.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture, out var major) && major < 8)
        {
            throw new ExportException(ExportErrorKind.InvalidRequest,
                $"Daemon:IoThreads is not usable with qemu {qmp.Greeting.Version}: qemu-storage-daemon aborts when an NBD client leaves an export in an iothread; leave it off");
        }

        await qmp.AddIothreadAsync(id, cancellationToken).ConfigureAwait(false);
        return id;
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
    /// <remarks>
    /// With <paramref name="detectZeroes"/>, qemu turns writes of all-zero data into zero clusters: the
    /// spliced data never enters this process, so it cannot be checked for zeroes here.
    /// </remarks>
    private async Task OpenTargetAsync(QmpClient qmp, string partial, bool detectZeroes, ulong work, CancellationToken cancellationToken)
    {
        var direct = _options.CacheDirect == CacheDirectScope.All
            || (_options.CacheDirect == CacheDirectScope.Output && work >= _options.OutputDirectMinimum);
        try
        {
            await qmp.BlockdevAddAsync(FileNode(TargetFileNode, partial, readOnly: false, direct), cancellationToken).ConfigureAwait(false);
        }
        catch (QmpException ex) when (_options.CacheDirect == CacheDirectScope.All && ex.Description.Contains("O_DIRECT", StringComparison.Ordinal))
        {
            throw new ExportException(ExportErrorKind.OutputProblem,
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
        if (detectZeroes)
        {
            target["discard"] = "unmap";
            target["detect-zeroes"] = "unmap";
        }

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
            ["aio"] = _options.Aio,
        };
        if (direct)
        {
            node["cache"] = new JsonObject { ["direct"] = true };
        }

        return node;
    }
}
