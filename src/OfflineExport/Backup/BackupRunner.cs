using System.Diagnostics;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// One backup run over several disks, all or nothing (ARCHITECTURE.md, "Checkpoint rotation"): start a
/// new checkpoint on every disk before its chain is opened for export, export every disk under a
/// pending name, then put all points in place and record them — only then do the new checkpoints
/// count. On any failure the pending files and the new checkpoints are removed and the folder, its
/// manifest and the disks' checkpoints are as they were.
/// </summary>
public sealed partial class BackupRunner
{
    private readonly ExportOptions _options;

    /// <summary>Creates a runner with the given tools and tuning.</summary>
    public BackupRunner(ExportOptions options) => _options = options;

    /// <summary>Runs the backup.</summary>
    public async Task<BackupResult> RunAsync(BackupRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (request.KeepCheckpoints is < 1)
        {
            throw new ExportException(ExportErrorKind.InvalidRequest, "--keep-checkpoints must be at least 1 (the newest checkpoint is the one the next backup needs)");
        }

        if (request.Images.Count == 0)
        {
            throw new ExportException(ExportErrorKind.InvalidRequest, "no image to back up");
        }

        var qemuImg = _options.CreateQemuImg();
        var target = Path.GetFullPath(request.Target);
        PrepareFolder(target, request.DryRun);
        using var folderLock = request.DryRun ? null : BackupFolderLock.Acquire(target);
        var manifest = ManifestStore.Load(target);
        var disks = await ReadDisksAsync(qemuImg, request.Images, cancellationToken).ConfigureAwait(false);
        var plans = BackupPlanner.Plan(manifest, disks, request.Level, DateTimeOffset.UtcNow, file => File.Exists(Path.Combine(target, file)));

        if (request.DryRun)
        {
            var measured = new List<BackupDiskResult>();
            foreach (var plan in plans)
            {
                var export = await ExportAsync(plan, target, Path.Combine(target, plan.File), request with { Verify = false }, null, cancellationToken).ConfigureAwait(false);
                measured.Add(new BackupDiskResult(plan, null, export));
            }

            return new BackupResult(target, measured, [], [], clock.Elapsed);
        }

        var results = await BackUpAllOrNothingAsync(qemuImg, manifest, plans, target, request, progress, cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        var removed = request.KeepCheckpoints is { } keep
            ? await PruneCheckpointsAsync(qemuImg, ManifestStore.Load(target), plans, keep, warnings, cancellationToken).ConfigureAwait(false)
            : [];
        return new BackupResult(target, results, removed, warnings, clock.Elapsed);
    }

    private static void PrepareFolder(string target, bool dryRun)
    {
        if (File.Exists(target))
        {
            throw new ExportException(ExportErrorKind.OutputProblem, $"backup target {target} is a file, not a folder");
        }

        if (!dryRun)
        {
            try
            {
                Directory.CreateDirectory(target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ExportException(ExportErrorKind.OutputProblem, $"cannot create backup folder {target}: {ex.Message}", ex);
            }
        }
    }

    private static async Task<IReadOnlyList<DiskSource>> ReadDisksAsync(QemuImg qemuImg, IReadOnlyList<string> images, CancellationToken cancellationToken)
    {
        var disks = new List<DiskSource>();
        foreach (var image in images.Select(Path.GetFullPath))
        {
            if (!File.Exists(image))
            {
                throw new ExportException(ExportErrorKind.InvalidImage, $"image {image} does not exist");
            }

            var chain = await ChainReader.ReadAsync(qemuImg, image, "image", cancellationToken).ConfigureAwait(false);
            await qemuImg.EnsureNotInUseAsync(image, chain[0].Format, cancellationToken).ConfigureAwait(false);
            disks.Add(new DiskSource(DiskSource.NameOf(image), image, chain));
        }

        return disks;
    }

    private async Task<IReadOnlyList<BackupDiskResult>> BackUpAllOrNothingAsync(
        QemuImg qemuImg,
        BackupManifest manifest,
        IReadOnlyList<DiskPlan> plans,
        string target,
        BackupRequest request,
        IProgress<DiskProgress>? progress,
        CancellationToken cancellationToken)
    {
        var added = new List<DiskPlan>();
        var pending = new List<string>();
        var placed = new List<string>();
        var manifestSaved = false;
        try
        {
            // The next window starts before the chain is opened for this one: a write in between lands
            // in both (a superset), never in neither.
            foreach (var plan in plans.Where(p => p.NextCheckpoint is not null))
            {
                await qemuImg.AddBitmapAsync(plan.Disk.Image, plan.Disk.Chain[0].Format, plan.NextCheckpoint!, cancellationToken).ConfigureAwait(false);
                added.Add(plan);
            }

            var exports = new List<ExportResult>();
            for (var i = 0; i < plans.Count; i++)
            {
                var plan = plans[i];
                var pendingPath = Path.Combine(target, plan.File + ".pending");
                File.Delete(pendingPath); // left by a run that was killed
                var diskProgress = progress is null ? null : new DiskProgressAdapter(progress, plan.Disk.Name, i, plans.Count);
                exports.Add(await ExportAsync(plan, target, pendingPath, request, diskProgress, cancellationToken).ConfigureAwait(false));
                pending.Add(pendingPath);
            }

            // Everything exported: put the points in place, then record them.
            var now = DateTimeOffset.UtcNow;
            var results = new List<BackupDiskResult>();
            for (var i = 0; i < plans.Count; i++)
            {
                var final = Path.Combine(target, plans[i].File);
                // A file of that name is not in the manifest: a killed run's leftover, safe to replace.
                File.Move(pending[i], final, overwrite: true);
                placed.Add(final);
                var point = Record(plans[i], exports[i], now);
                manifest = manifest.WithDisk(UpdatedDisk(manifest.Disk(plans[i].Disk.Name), plans[i], point));
                results.Add(new BackupDiskResult(plans[i], point, exports[i]));
            }

            FileSync.Folder(target);
            ManifestStore.Save(target, manifest);
            manifestSaved = true;
            return results;
        }
        catch when (!manifestSaved)
        {
            foreach (var path in pending.Concat(placed))
            {
                OutputFile.TryDelete(path);
            }

            foreach (var plan in added)
            {
                await RemoveCheckpointQuietlyAsync(qemuImg, plan).ConfigureAwait(false);
            }

            throw;
        }
    }

    private async Task<ExportResult> ExportAsync(DiskPlan plan, string target, string output, BackupRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var export = new ExportRequest
        {
            Image = plan.Disk.Image,
            Output = output,
            Bitmaps = plan.Checkpoints,
            Backing = plan.BackingPoint is null ? null : Path.Combine(target, plan.BackingPoint.File),
            Verify = request.Verify,
            DryRun = request.DryRun,
        };
        return await new ExportSession(_options).RunAsync(export, progress, cancellationToken).ConfigureAwait(false);
    }

    private static PointRecord Record(DiskPlan plan, ExportResult export, DateTimeOffset now) => new()
    {
        Number = plan.Number,
        File = plan.File,
        Level = plan.Level,
        BackingPoint = plan.BackingPoint?.Number,
        CheckpointsUsed = plan.Checkpoints,
        CheckpointCreated = plan.NextCheckpoint,
        Source = plan.Disk.Image,
        VirtualSize = (long)export.VirtualSize,
        BytesCopied = export.BytesCopied,
        BytesZeroed = export.BytesZeroed,
        StartTime = export.StartTime,
        EndTime = now,
        ToolVersion = ToolInfo.NameAndVersion,
        Verified = export.Verified,
    };

    private static DiskRecord UpdatedDisk(DiskRecord? record, DiskPlan plan, PointRecord point) => new()
    {
        Name = plan.Disk.Name,
        Source = plan.Disk.Image,
        VirtualSize = point.VirtualSize,
        CurrentCheckpoint = plan.NextCheckpoint,
        Points = [.. record?.Points ?? [], point],
    };

    private async Task RemoveCheckpointQuietlyAsync(QemuImg qemuImg, DiskPlan plan)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await qemuImg.RemoveBitmapAsync(plan.Disk.Image, plan.Disk.Chain[0].Format, plan.NextCheckpoint!, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Best effort: a leftover enabled bitmap costs a little space and is never used as a checkpoint.
            _options.Log?.Invoke($"could not remove checkpoint {plan.NextCheckpoint} from {plan.Disk.Image}: {ex.Message}");
        }
    }
}
