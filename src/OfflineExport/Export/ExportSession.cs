using System.Diagnostics;
using OfflineExport.IO;
using OfflineExport.Processes;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// Runs one export end to end (ARCHITECTURE.md, "The pipeline"): read and validate the chain, start
/// qemu-storage-daemon, open the chain read-only and merge the checkpoints into a temporary bitmap (one
/// checkpoint of the top layer alone is exported as it is),
/// export source and target over NBD, copy, flush, stop the daemon, verify, and only then rename
/// OUTPUT into place. On any failure or cancellation the partial file and the daemon are removed.
/// </summary>
public sealed class ExportSession
{
    private readonly ExportOptions _options;

    /// <summary>Creates a session with the given tools and tuning.</summary>
    public ExportSession(ExportOptions options) => _options = options;

    /// <summary>Exports one disk.</summary>
    /// <exception cref="OfflineExportException">The export was refused or failed; its kind says why.</exception>
    public Task<ExportResult> RunAsync(ExportRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => ExportAsync(request, progress, cancellationToken));

    private async Task<ExportResult> ExportAsync(ExportRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var startTime = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var tools = _options.Tools.Resolve();
        var qemuImg = new QemuImg(tools.QemuImg, _options.Log, _options.ProgressTimeout);
        var paths = ExportPaths.From(request);
        ExportPreconditions.CheckRequest(request, paths);

        using var workDirectory = RunWorkFolder.Create(_options.WorkDirectory);
        // A killed run left its folder, maybe a daemon and a partial output: say so, and remove them.
        var cleanedUp = StaleWorkFolders.CleanUp(Path.GetDirectoryName(workDirectory.Path)!, workDirectory.Path);
        var sourceReading = SourceChain.ReadAsync(qemuImg, paths.Image, request.Format, checkLayers: !request.LayersChecked, cancellationToken);
        // Started before the checks so its start-up overlaps qemu-img's; it opens nothing until they pass,
        // and a refusal cancels a start still under way instead of waiting for it.
        using var daemonStart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var daemonStarting = StorageDaemon.StartAsync(tools.StorageDaemon, workDirectory.Path, _options.DaemonStartTimeout, _options.ProgressTimeout, _options.Log, daemonStart.Token);
        var backingReading = paths.Backing is null ? null : ChainReader.ReadAsync(qemuImg, paths.Backing, null, "previous backup", cancellationToken); // probed: CheckBacking refuses anything but qcow2
        // Declared before the daemon's clean-up below, so it is deleted after the daemon that may hold it open is gone.
        using var partial = request.DryRun ? null : PartialOutput.For(paths.Output);
        SourceChain? source = null;
        StorageDaemon? daemon = null;
        try
        {
            source = await sourceReading.ConfigureAwait(false);
            var chain = source.Layers;
            ExportPreconditions.CheckLooksLikeDisk(chain[0], paths.Image);
            ExportPreconditions.CheckDetectedFormat(chain[0], paths.Image, detected: request.Format is null);
            var validated = ChainValidator.Validate(chain, request.Bitmaps);
            ExportPreconditions.CheckOutputOutsideChain(paths.Output, chain, "source chain");
            var previous = backingReading is null ? null : ExportPreconditions.CheckBacking(await backingReading.ConfigureAwait(false), paths, validated);

            await source.LayerChecks.ConfigureAwait(false);
            if (partial is not null)
            {
                // Recorded before it exists: a run killed from here on leaves a partial the next run can find.
                RunWorkFolder.RecordPartial(workDirectory, partial.Path);
                partial.CreateEmpty(); // the daemon writes the qcow2 into it once the copy is measured
            }

            daemon = await daemonStarting.ConfigureAwait(false);
            var output = partial is null ? null : new OutputTarget(partial, paths.BackingAsRecorded);
            var (totals, statistics) = await new ExportCopy(_options).RunAsync(daemon, validated, previous, output, progress, cancellationToken).ConfigureAwait(false);

            var verified = false;
            if (partial is not null && request.Verify)
            {
                var compare = await qemuImg.CompareAsync(partial.Path, "qcow2", ChainDescription.QemuImgName(validated.Layers), validated.Top.Format, cancellationToken,
                    ExportProgress.ReporterFor(progress, ProgressStep.Verify, (ulong)validated.VirtualSize), secondShownAs: paths.Image).ConfigureAwait(false);
                Verification.RequireIdentical(compare, $"the backup differs from {paths.Image}");
                verified = true;
            }

            partial?.Publish(overwrite: request.Force);

            return new ExportResult
            {
                Image = paths.Image,
                Output = paths.Output,
                Format = validated.Top.Format,
                FormatOrigin = request.Format is null ? FormatOrigin.Detected : FormatOrigin.Stated,
                Notes = [.. cleanedUp, .. validated.Notes, .. request.Format is null ? [$"{paths.Image}: format {ImageFormats.Describe(validated.Top.Format, FormatOrigin.Detected)}"] : Array.Empty<string>()],
                Mode = request.Mode,
                Bitmaps = request.Bitmaps,
                Backing = paths.BackingAsRecorded,
                VirtualSize = (ulong)validated.VirtualSize,
                PlannedDataBytes = totals.DataBytes,
                PlannedZeroBytes = totals.ZeroBytes,
                BytesCopied = statistics?.BytesCopied ?? 0,
                BytesZeroed = statistics?.BytesZeroed ?? 0,
                Requests = statistics?.Requests ?? 0,
                StartTime = startTime,
                Duration = clock.Elapsed,
                Verified = verified,
                DryRun = request.DryRun,
            };
        }
        finally
        {
            // The daemon goes first: it may still hold the partial file open.
            if (daemon is null)
            {
                await daemonStart.CancelAsync().ConfigureAwait(false);
                daemon = await SettledAsync(daemonStarting).ConfigureAwait(false);
            }

            if (daemon is not null)
            {
                await daemon.DisposeAsync().ConfigureAwait(false);
            }

            await SettledAsync(backingReading).ConfigureAwait(false);
            if (source is not null)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                await SettledAsync(sourceReading).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits for a task started ahead that is no longer needed; its error is not the one to report.</summary>
    private static async Task SettledAsync(Task? task)
    {
        try
        {
            if (task is not null)
            {
                await task.ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Reported, if at all, where it was awaited.
        }
    }

    /// <summary>The result of a task started ahead that is no longer needed, or null when it failed: its error is not the one to report.</summary>
    private static async Task<T?> SettledAsync<T>(Task<T>? task)
        where T : class
    {
        try
        {
            return task is null ? null : await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            return null;
        }
    }
}
