using OfflineExport.Export;

namespace OfflineExport.Backup;

/// <summary>An exclusive advisory lock on a backup folder, so two runs never write the same folder at once.</summary>
public sealed class BackupFolderLock : IDisposable
{
    private readonly FileStream _stream;

    private BackupFolderLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock or fails at once with a clear message.</summary>
    public static BackupFolderLock Acquire(string folder)
    {
        var path = Path.Combine(folder, ".offline-export.lock");
        try
        {
            // FileShare.None makes .NET take an exclusive flock on Unix.
            return new BackupFolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex)
        {
            throw new ExportException(ExportErrorKind.BackupFolderProblem, $"backup folder {folder} is in use by another offline-export run", ex);
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _stream.Dispose();
}
