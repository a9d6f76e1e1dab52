using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// A second advisory lock on a backup folder, on its point files rather than its manifest: <c>forget</c>
/// replaces and removes point files, so it holds this one exclusively, while <c>restore</c> and <c>check</c>
/// hold it shared for as long as they read. A backup only adds files and does not take it, so a nightly
/// backup still runs while someone restores.
/// </summary>
public sealed class PointFilesLock : IDisposable
{
    private const string FileName = ".offline-export.points.lock";

    private readonly LockFile? _lock;

    private PointFilesLock(LockFile? held) => _lock = held;

    /// <summary>For a run that replaces or removes point files; fails at once when anyone reads them.</summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem when a restore, check or forget holds the folder.</exception>
    public static PointFilesLock Exclusive(string folder)
    {
        var path = Path.Combine(folder, FileName);
        BackupFolderLock.RequireRegularOrAbsent(path);
        LockFile? held;
        try
        {
            held = LockFile.TryTake(path, exclusive: true, create: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write to backup folder {folder}: {IoErrorText.Reason(ex)}", ex);
        }

        return held is null
            ? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is being read by a restore or check, or pruned by another forget; try again when it ends")
            : new PointFilesLock(held);
    }

    /// <summary>
    /// For a run that reads point files; fails at once while a forget replaces them. A folder that cannot be
    /// written (a read-only copy) cannot be pruned either, so there it holds nothing.
    /// </summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem while a forget holds the folder.</exception>
    public static PointFilesLock Shared(string folder)
    {
        var path = Path.Combine(folder, FileName);
        BackupFolderLock.RequireRegularOrAbsent(path);
        LockFile? held;
        try
        {
            held = LockFile.TryTake(path, exclusive: false, create: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                // A folder this user cannot write: an existing lock file can still be locked through a read-only open.
                held = LockFile.TryTake(path, exclusive: false, create: false);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
                return new PointFilesLock(null);
            }
        }

        return held is null
            ? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is being pruned by a forget run; try again when it ends")
            : new PointFilesLock(held);
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock?.Dispose();
}
