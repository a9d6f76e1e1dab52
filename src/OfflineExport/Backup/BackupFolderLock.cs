using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>An exclusive advisory lock on a backup folder, so two runs never write the same folder at once.</summary>
public sealed class BackupFolderLock : IDisposable
{
    private readonly LockFile _lock;

    private BackupFolderLock(LockFile held) => _lock = held;

    /// <summary>Takes the lock or fails at once with a clear message.</summary>
    /// <exception cref="OfflineExportException">The folder cannot be written (OutputProblem) or another run holds it (BackupFolderProblem).</exception>
    public static BackupFolderLock Acquire(string folder)
    {
        var path = Path.Combine(folder, ".offline-export.lock");
        RequireRegularOrAbsent(path);
        LockFile? held;
        try
        {
            held = LockFile.TryTake(path, exclusive: true, create: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only, full or forbidden folder is not "in use": say what it is.
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write to backup folder {folder}: {IoErrorText.Reason(ex)}", ex);
        }

        return held is null
            ? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"backup folder {folder} is in use by another offline-export run")
            : new BackupFolderLock(held);
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
    public void Dispose() => _lock.Dispose();
}
