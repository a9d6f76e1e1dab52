using System.Diagnostics;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// <c>check DIR [--read-data]</c>: proves a backup folder without its source disks. Every point's file by
/// <see cref="PointFiles.Examine"/> (present, recorded size, linked as the manifest says, inside the folder),
/// then <c>qemu-img check</c> of each file alone, then with <c>--read-data</c> its SHA-256. Reports every
/// damaged point and the later points it takes down; it never changes the folder.
/// </summary>
public sealed class FolderCheck
{
    private readonly ExportOptions _options;

    /// <summary>Creates a check with the given tools.</summary>
    public FolderCheck(ExportOptions options) => _options = options;

    /// <summary>Checks the folder; damage is the result, not an error.</summary>
    public Task<FolderCheckResult> RunAsync(FolderCheckRequest request, CancellationToken cancellationToken) =>
        RunAsync(request, null, cancellationToken);

    /// <summary>Checks the folder, reporting the reading of <c>--read-data</c> (<see cref="ProgressStep.Read"/>) to <paramref name="progress"/>.</summary>
    public Task<FolderCheckResult> RunAsync(FolderCheckRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => CheckAsync(request, progress, cancellationToken));

    private async Task<FolderCheckResult> CheckAsync(FolderCheckRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var folder = FolderPath.Full(request.Folder);
        ManifestStore.LoadExisting(folder);
        ForgetJournal.TryFinishPending(folder, folderLockHeld: false);
        using var reading = PointFilesLock.Shared(folder);
        var manifest = ManifestStore.LoadExisting(folder);
        var qemuImg = _options.CreateQemuImg();
        var found = new Dictionary<(string Disk, int Point), string>();
        var sound = new List<(DiskRecord Disk, PointRecord Point)>();
        foreach (var disk in manifest.Disks)
        {
            foreach (var point in disk.Points)
            {
                if (PointFiles.Examine(folder, disk, point) is { } what)
                {
                    found[(disk.Name, point.Number)] = what;
                }
                else
                {
                    sound.Add((disk, point));
                }
            }
        }

        // qemu-img check of each file alone (its backing is checked as its own point), two at a time per core.
        using var slots = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
        var checks = sound.Select(async item =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return (item, result: await qemuImg.CheckQcow2Async(Path.Combine(folder, item.Point.File), cancellationToken).ConfigureAwait(false));
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        foreach (var (item, result) in await Task.WhenAll(checks).ConfigureAwait(false))
        {
            if (!result.IsReadable)
            {
                found[(item.Disk.Name, item.Point.Number)] = Describe(result);
            }
        }

        long bytesRead = 0;
        if (request.ReadData)
        {
            var toRead = sound.Where(s => !found.ContainsKey((s.Disk.Name, s.Point.Number)) && s.Point.FileSha256 is not null).ToList();
            var total = (ulong)toRead.Sum(s => s.Point.FileSize ?? 0);
            var readClock = Stopwatch.StartNew();
            ulong done = 0;
            progress?.Report(new ExportProgress(0, total, 0, 0, TimeSpan.Zero) { Step = ProgressStep.Read });
            foreach (var (disk, point) in toRead)
            {
                void Read(long bytes)
                {
                    done = Math.Min(total, done + (ulong)bytes);
                    progress?.Report(new ExportProgress(done, total, 0, 0, readClock.Elapsed) { Step = ProgressStep.Read });
                }

                if (await PointFiles.ChecksumProblemAsync(folder, point, cancellationToken, progress is null ? null : Read).ConfigureAwait(false) is { } what)
                {
                    found[(disk.Name, point.Number)] = what;
                }

                bytesRead += point.FileSize ?? 0;
            }

            progress?.Report(new ExportProgress(total, total, 0, 0, readClock.Elapsed) { Step = ProgressStep.Read });
        }

        var damaged = manifest.Disks.SelectMany(disk => disk.Points
                .Where(point => found.ContainsKey((disk.Name, point.Number)))
                .Select(point => new PointDamage(disk.Name, point.Number, point.File, found[(disk.Name, point.Number)], PointFiles.Dependents(disk, point.Number))))
            .ToList();
        var points = manifest.Disks.Sum(d => d.Points.Count);
        var withoutChecksum = manifest.Disks.Sum(d => d.Points.Count(p => p.FileSha256 is null));
        return new FolderCheckResult(folder, manifest.Disks.Count, points, request.ReadData, damaged, withoutChecksum, bytesRead, clock.Elapsed);
    }

    private static string Describe(ImageCheckResult result)
    {
        var finding = result.FirstError is null ? string.Empty : $": {result.FirstError}";
        return result.ExitCode == 2
            ? $"qemu-img check found {(result.Report is { Corruptions: > 0 } report ? $"{report.Corruptions} corruption(s)" : "corruptions")}{finding}"
            : $"qemu-img check could not complete (exit code {result.ExitCode}{finding})";
    }
}
