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
    private const int WouldBlock = 11; // EWOULDBLOCK, as .NET reports a refused flock
    private const string FileName = ".offline-export.points.lock";

    private readonly FileStream? _stream;

    private PointFilesLock(FileStream? stream) => _stream = stream;

    /// <summary>For a run that replaces or removes point files; fails at once when anyone reads them.</summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem when a restore, check or forget holds the folder.</exception>
    public static PointFilesLock Exclusive(string folder)
    {
        BackupFolderLock.RequireRegularOrAbsent(Path.Combine(folder, FileName));
        try
        {
            // FileShare.None makes .NET take an exclusive flock.
            return new PointFilesLock(new FileStream(Path.Combine(folder, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex) when (ex.HResult == WouldBlock)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is being read by a restore or check, or pruned by another forget; try again when it ends", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write to backup folder {folder}: {IoErrorText.Reason(ex)}", ex);
        }
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
        try
        {
            // Any sharing but None makes .NET take a shared flock.
            return new PointFilesLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite));
        }
        catch (IOException ex) when (ex.HResult == WouldBlock)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is being pruned by a forget run; try again when it ends", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                return new PointFilesLock(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            }
            catch (IOException again) when (again.HResult == WouldBlock)
            {
                throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is being pruned by a forget run; try again when it ends", again);
            }
            catch (Exception) when (ex is IOException or UnauthorizedAccessException)
            {
                return new PointFilesLock(null);
            }
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _stream?.Dispose();
}
