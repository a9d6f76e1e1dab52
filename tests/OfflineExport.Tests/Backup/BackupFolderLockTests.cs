using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Tests.Backup;

public sealed class BackupFolderLockTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Second_acquire_while_the_first_is_held_is_a_backup_folder_problem_naming_the_folder()
    {
        // Arrange
        using var first = BackupFolderLock.Acquire(_folder.Path);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupFolderLock.Acquire(_folder.Path).Dispose());

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
        Assert.Contains(_folder.Path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acquire_succeeds_again_after_the_first_lock_is_disposed()
    {
        // Arrange
        var first = BackupFolderLock.Acquire(_folder.Path);
        first.Dispose();

        // Act
        var ex = Record.Exception(() =>
        {
            using var second = BackupFolderLock.Acquire(_folder.Path);
        });

        // Assert
        Assert.Null(ex);
    }

    [Fact]
    public void Locks_on_different_folders_do_not_conflict()
    {
        // Arrange
        using var other = new TempFolder();
        using var first = BackupFolderLock.Acquire(_folder.Path);

        // Act
        var ex = Record.Exception(() =>
        {
            using var second = BackupFolderLock.Acquire(other.Path);
        });

        // Assert
        Assert.Null(ex);
    }

    [Fact]
    public void Lock_is_still_held_after_a_failed_second_acquire()
    {
        // Arrange
        using var first = BackupFolderLock.Acquire(_folder.Path);
        _ = Assert.Throws<OfflineExportException>(() => BackupFolderLock.Acquire(_folder.Path).Dispose());

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupFolderLock.Acquire(_folder.Path).Dispose());

        // Assert
        Assert.Equal(ErrorKind.BackupFolderProblem, ex.Kind);
    }
}
