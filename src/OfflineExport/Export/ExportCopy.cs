using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// The work of one export in a started daemon: block graph, connections, the untracked-change check,
/// the plan, then either the dry run's totals or the copy into the target, its flush and the daemon's
/// clean exit (which closes and flushes every node).
/// </summary>
public sealed class ExportCopy
{
    /// <summary>Largest WRITE_ZEROES request (no payload, so it may be far above the READ/WRITE maximum).</summary>
    private const ulong MaximumZeroRequest = 1UL << 30;

    private static readonly TimeSpan DaemonStopTimeout = TimeSpan.FromSeconds(30);

    private readonly ExportOptions _options;

    /// <summary>Creates the copy with the export's tuning.</summary>
    public ExportCopy(ExportOptions options) => _options = options;

    /// <summary>Runs the export in <paramref name="daemon"/>; a failure is reported as <see cref="ExportFailures"/> decides.</summary>
    /// <param name="daemon">The started daemon (nothing opened yet).</param>
    /// <param name="chain">The validated source chain.</param>
    /// <param name="previous">The previous backup of an incremental, or null.</param>
    /// <param name="output">The partial output to create and write, or null for a dry run.</param>
    /// <param name="progress">Receives the copy's progress, or null.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What was planned, and what was done (null for a dry run).</returns>
    public async Task<(ExportTotals Totals, CopyStatistics? Statistics)> RunAsync(
        StorageDaemon daemon, ValidatedChain chain, PreviousBackup? previous, OutputTarget? output, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await CopyAsync(daemon, chain, previous, output, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OfflineExportException and not OperationCanceledException)
        {
            if (await ExportFailures.TranslateAsync(ex, daemon, chain.Top.Path, output?.Partial.Path, cancellationToken.IsCancellationRequested).ConfigureAwait(false) is { } translated)
            {
                throw translated;
            }

            throw;
        }
    }

    private async Task<(ExportTotals Totals, CopyStatistics? Statistics)> CopyAsync(
        StorageDaemon daemon, ValidatedChain chain, PreviousBackup? previous, OutputTarget? output, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var graph = new BlockGraph(daemon.Qmp, _options.CacheDirect, _options.OutputDirectMinimum, _options.Log);
        var dirtyContext = await graph.ExportSourceAsync(chain, daemon.NbdSocket, cancellationToken).ConfigureAwait(false);
        await using var nbd = await ExportConnections.OpenAsync(daemon.NbdSocket, dirtyContext, _options.MaxInFlight, _options.ProgressTimeout, cancellationToken).ConfigureAwait(false);
        if (dirtyContext is not null && previous is not null)
        {
            // Metadata only, before anything is measured or written: a wrong incremental is never made.
            await UntrackedChangeCheck.RunAsync(graph, daemon.NbdSocket, previous, nbd.Source, nbd.DirtyScanner!, dirtyContext,
                chain.MergeSources.Select(s => s.Bitmap).Distinct().ToList(), nbd.Source.Export.Size, _options.ProgressTimeout, _options.Log, cancellationToken).ConfigureAwait(false);
        }

        var requestSize = (int)Math.Min((uint)_options.RequestSize, nbd.Source.Export.MaximumBlockSize);
        var planner = new ExportPlanner(nbd.DirtyScanner, dirtyContext, nbd.Source, nbd.Source.Export.Size, (ulong)requestSize, MaximumZeroRequest);
        if (output is null)
        {
            var totals = await ExportPlanner.TotalsAsync(planner.PlanAsync(null, cancellationToken), cancellationToken).ConfigureAwait(false);
            await nbd.FinishAsync(cancellationToken).ConfigureAwait(false);
            await StopAsync(daemon, cancellationToken).ConfigureAwait(false);
            return (totals, null);
        }

        // Measured before the target opens: how much will be written decides how it is opened.
        var measurement = await planner.MeasureAsync(cancellationToken).ConfigureAwait(false);
        void RequireOurs() => RequireOwnFile(daemon, output);
        var layout = OutputLayout.For(chain.Layers);
        await graph.CreateTargetAsync(output, chain.VirtualSize, layout, RequireOurs, _options.ProgressTimeout, cancellationToken).ConfigureAwait(false);
        await graph.ExportTargetAsync(output.Partial.Path, measurement.WorkBytes, layout.ClusterSize, RequireOurs, cancellationToken).ConfigureAwait(false);
        await nbd.ConnectTargetAsync(daemon.NbdSocket, _options.MaxInFlight, cancellationToken).ConfigureAwait(false);
        var engine = new CopyEngine(nbd.Source, nbd.Target!, _options.MaxInFlight, requestSize, targetHasBacking: chain.MergeSources.Count > 0, progress);
        var statistics = await engine.RunAsync(planner.PlanAsync(measurement, cancellationToken), measurement.WorkBytes, cancellationToken).ConfigureAwait(false);
        await nbd.FinishAsync(cancellationToken).ConfigureAwait(false);
        await StopAsync(daemon, cancellationToken).ConfigureAwait(false);
        return (new ExportTotals(statistics.PlannedData, statistics.PlannedZero), statistics);
    }

    /// <summary>
    /// The daemon opens the partial output by name, and whoever may write into its folder could put a symlink
    /// there first: nothing is written unless the file it opened is the one this process created.
    /// </summary>
    private static void RequireOwnFile(StorageDaemon daemon, OutputTarget output)
    {
        var partial = output.Partial;
        bool ours;
        try
        {
            ours = partial.Created is { } created && daemon.HoldsOpen(created);
        }
        catch (IOException ex)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write {partial.Output}: cannot tell which file the daemon opened ({ex.Message}); nothing was written", ex);
        }

        if (!ours)
        {
            throw partial.Replaced("nothing was written");
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
}
