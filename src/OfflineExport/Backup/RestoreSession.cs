using System.Diagnostics;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Processes;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// Writes a disk as it was at one point: <c>qemu-img convert</c> of the point's chain into a standalone
/// qcow2 under a temporary name, <c>qemu-img compare</c> against the chain, then fsync and rename.
/// </summary>
public sealed class RestoreSession
{
    private readonly ExportOptions _options;

    /// <summary>Creates a session with the given tools.</summary>
    public RestoreSession(ExportOptions options) => _options = options;

    /// <summary>Restores.</summary>
    public Task<RestoreResult> RunAsync(RestoreRequest request, CancellationToken cancellationToken) =>
        RunAsync(request, null, cancellationToken);

    /// <summary>Restores, reporting the copy (<see cref="ProgressStep.Restore"/>) and its comparison (<see cref="ProgressStep.Verify"/>) to <paramref name="progress"/>.</summary>
    public Task<RestoreResult> RunAsync(RestoreRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => RestoreAsync(request, progress, cancellationToken));

    private async Task<RestoreResult> RestoreAsync(RestoreRequest request, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var qemuImg = _options.CreateQemuImg();
        var folder = FolderPath.Full(request.Folder);
        var output = Path.GetFullPath(request.Output);
        ManifestStore.LoadExisting(folder);
        ForgetJournal.TryFinishPending(folder, folderLockHeld: false);
        // Held while the chain is read: a forget must not replace or remove its files meanwhile.
        using var reading = PointFilesLock.Shared(folder);
        var manifest = ManifestStore.LoadExisting(folder); // as it is now that no forget can change it
        var disk = SelectDisk(manifest, request.Disk, folder);
        var point = SelectPoint(disk, request.Point, folder);
        var pointPath = Path.Combine(folder, point.File);
        // Headers first (before qemu opens any file of the chain), checksums once the output is known to be writable.
        // Every check and every read goes through the files opened here, whatever the folder's names lead to meanwhile.
        using var chain = PinnedPointChain.Open(folder, disk, point, "restore");
        OutputFile.CheckCanCreate(output, request.Force);
        // By identity: through a symlink, OUTPUT could be a point; rewritten, every later restore of it would lie.
        if (SameFile.FindIn(output, Directory.EnumerateFiles(folder)) is { } own)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem,
                $"output {output} is {own}, a file of the backup folder; restore writes a new image and never replaces the folder's own files");
        }

        if (request.Force && File.Exists(output))
        {
            // Replacing an image a VM or qemu-nbd holds would pull it from under the writer.
            if (QemuImageLocks.IsOpenByQemu(output))
            {
                throw OfflineExportException.ImageInUse(output, "a qemu process has it open");
            }
        }

        // The files read now are the files written then: a restore is "verified" only against the point as it was taken.
        var checksummed = await chain.RequireChecksumsAsync(disk, "restore", cancellationToken).ConfigureAwait(false);
        long virtualSize;
        try
        {
            // Opens every layer as our description says; a layer qemu cannot read fails here, before any output exists.
            await qemuImg.OpenChainAsync(chain.QemuName, "qcow2", pointPath, cancellationToken).ConfigureAwait(false);
            virtualSize = chain.VirtualSize();
        }
        catch (QemuImgException ex)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"the chain of point {point.Number} of {disk.Name} is broken: {chain.Readable(ChainReader.QemuErrorText(ex.StandardError))}", ex);
        }

        // A restore killed during its copy leaves a full-size partial: recorded first, the next run removes it.
        using var workDirectory = RunWorkFolder.Create(_options.WorkDirectory);
        var cleanedUp = StaleWorkFolders.CleanUp(Path.GetDirectoryName(workDirectory.Path)!, workDirectory.Path);
        using var partial = PartialOutput.For(output);
        RunWorkFolder.RecordPartial(workDirectory, partial.Path);
        try
        {
            await qemuImg.ConvertToQcow2Async(chain.QemuName, "qcow2", partial.Path, cancellationToken, ExportProgress.ReporterFor(progress, ProgressStep.Restore, (ulong)virtualSize)).ConfigureAwait(false);
        }
        catch (QemuImgException ex)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write {output}: {chain.Readable(ChainReader.QemuErrorText(ex.StandardError))}", ex);
        }

        var compare = await qemuImg.CompareAsync(partial.Path, "qcow2", chain.QemuName, "qcow2", cancellationToken, ExportProgress.ReporterFor(progress, ProgressStep.Verify, (ulong)virtualSize)).ConfigureAwait(false);
        Verification.RequireIdentical(compare with { Message = chain.Readable(compare.Message) }, $"the restored image differs from point {point.Number} of {disk.Name}");
        partial.Publish(overwrite: request.Force);
        return new RestoreResult(disk.Name, point, output, chain.Count, clock.Elapsed) { FilesChecksummed = checksummed, Notes = cleanedUp };
    }

    private static DiskRecord SelectDisk(BackupManifest manifest, string? name, string folder)
    {
        var names = string.Join(", ", manifest.Disks.Select(d => d.Name));
        if (name is not null)
        {
            return manifest.Disk(name)
                ?? throw new OfflineExportException(ErrorKind.InvalidRequest, $"{folder} has no disk '{name}'; it has: {names}");
        }

        return manifest.Disks.Count switch
        {
            1 => manifest.Disks[0],
            0 => throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{folder} holds no disk yet"),
            _ => throw new OfflineExportException(ErrorKind.InvalidRequest, $"{folder} holds several disks ({names}); choose one with --disk"),
        };
    }

    private static PointRecord SelectPoint(DiskRecord disk, int? number, string folder)
    {
        if (number is null)
        {
            return disk.Latest ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{folder} has no point for {disk.Name}");
        }

        return disk.Point(number.Value)
            ?? throw new OfflineExportException(ErrorKind.InvalidRequest,
                $"{disk.Name} has no point {number} in {folder}; points: {string.Join(", ", disk.Points.Select(p => p.Number))}");
    }
}
