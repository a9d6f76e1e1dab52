using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>An exclusive advisory lock on a backup folder, so two runs never write the same folder at once.</summary>
public sealed class BackupFolderLock : IDisposable
{
    private const int WouldBlock = 11; // EWOULDBLOCK: .NET's IOException carries the errno of a failed flock as its HResult

    private readonly FileStream _stream;

    private BackupFolderLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock or fails at once with a clear message.</summary>
    /// <exception cref="OfflineExportException">The folder cannot be written (OutputProblem) or another run holds it (BackupFolderProblem).</exception>
    public static BackupFolderLock Acquire(string folder)
    {
        var path = Path.Combine(folder, ".offline-export.lock");
        RequireRegularOrAbsent(path);
        try
        {
            // FileShare.None makes .NET take an exclusive flock on Unix.
            return new BackupFolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex) when (ex.HResult == WouldBlock)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is in use by another offline-export run", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only, full or forbidden folder is not "in use": say what it is.
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write to backup folder {folder}: {IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>Refuses a lock file that is a symlink or a special file: opening it would create or lock whatever it leads to.</summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem.</exception>
    public static void RequireRegularOrAbsent(string path)
    {
        if (FileIdentity.OfLink(path) is { Kind: not FileKind.Regular })
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{path} is not a regular file (a symlink or a special file); remove it and run again");
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _stream.Dispose();
}
