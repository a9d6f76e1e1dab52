using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Processes;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// <c>check DIR [--read-data]</c>: proves a backup folder without its source disks. Every point's file by
/// <see cref="PointFiles.Examine"/> (present, recorded size, linked as the manifest says, inside the folder),
/// then <c>qemu-img check</c> of each file alone, then with <c>--read-data</c> its SHA-256; qemu-img and the
/// checksum read the file that was examined, held open, never a name again. Reports every
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
        var points = manifest.Disks.SelectMany(disk => disk.Points.Select(point => (Disk: disk, Point: point))).ToList();

        // Each file examined, then checked by qemu-img alone through that same open file (its backing is checked
        // as its own point); one file per core, at least two at a time.
        using var slots = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
        var checks = points.Select(async item =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return (item, what: await ExamineAndCheckAsync(qemuImg, folder, item.Disk, item.Point, cancellationToken).ConfigureAwait(false));
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        foreach (var (item, what) in await Task.WhenAll(checks).ConfigureAwait(false))
        {
            if (what is not null)
            {
                found[(item.Disk.Name, item.Point.Number)] = what;
            }
        }

        long bytesRead = 0;
        if (request.ReadData)
        {
            var toRead = points.Where(s => !found.ContainsKey((s.Disk.Name, s.Point.Number)) && s.Point.FileSha256 is not null).ToList();
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

                if (await ExamineAndReadAsync(folder, disk, point, progress is null ? null : Read, cancellationToken).ConfigureAwait(false) is { } what)
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
        var withoutChecksum = manifest.Disks.Sum(d => d.Points.Count(p => p.FileSha256 is null));
        return new FolderCheckResult(folder, manifest.Disks.Count, points.Count, request.ReadData, damaged, withoutChecksum, bytesRead, clock.Elapsed);
    }

    /// <summary>
    /// What <see cref="PointFiles.Examine"/> or <c>qemu-img check</c> finds wrong with the point's file, or null.
    /// qemu-img reads the very file that was examined (held open), so a file swapped in between can neither
    /// stall it (a named pipe) nor make it read another file.
    /// </summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem: another user could change the file; QemuFailure: qemu-img stalled.</exception>
    internal static Task<string?> ExamineAndCheckAsync(QemuImg qemuImg, string folder, DiskRecord disk, PointRecord point, CancellationToken cancellationToken) =>
        ExaminedAsync(folder, disk, point, async handle =>
        {
            try
            {
                var result = await qemuImg.CheckQcow2Async(handle, Path.Combine(folder, point.File), cancellationToken).ConfigureAwait(false);
                return result.IsReadable ? null : Describe(result);
            }
            catch (CommandStalledException ex)
            {
                // Storage that stopped answering would stall every point alike: the check ends here, naming the file.
                throw new OfflineExportException(ErrorKind.QemuFailure,
                    $"qemu-img check of {Path.Combine(folder, point.File)} made no progress for {ex.Timeout.TotalSeconds:0.#} s and was stopped: is a file its header names a named pipe, or did the storage stop answering?", ex);
            }
        });

    // The checksum of the file as it is examined now.
    private static Task<string?> ExamineAndReadAsync(string folder, DiskRecord disk, PointRecord point, Action<long>? read, CancellationToken cancellationToken) =>
        ExaminedAsync(folder, disk, point, handle => PointFiles.ChecksumProblemAsync(point, handle, cancellationToken, read));

    // What examining the point's file finds wrong, else what `read` finds reading that same open file. A file someone
    // else could rewrite in place is refused, as restore refuses it: holding it would not stop a new header.
    private static async Task<string?> ExaminedAsync(string folder, DiskRecord disk, PointRecord point, Func<SafeFileHandle, Task<string?>> read)
    {
        var (handle, what) = PointFiles.OpenExamined(folder, disk, point);
        if (handle is null)
        {
            return what;
        }

        using (handle)
        {
            PointFiles.RequireOnlyOursCanChange(handle, folder, disk, point, point, "check");
            return await read(handle).ConfigureAwait(false);
        }
    }

    private static string Describe(ImageCheckResult result)
    {
        var finding = result.FirstError is null ? string.Empty : $": {result.FirstError}";
        return result.ExitCode == 2
            ? $"qemu-img check found {(result.Report is { Corruptions: > 0 } report ? $"{report.Corruptions} corruption(s)" : "corruptions")}{finding}"
            : $"qemu-img check could not complete (exit code {result.ExitCode}{finding})";
    }
}
