using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

public sealed class PointFilesLockTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Readers_share_it()
    {
        using var first = PointFilesLock.Shared(_folder.Path);

        var ex = Record.Exception(() => PointFilesLock.Shared(_folder.Path).Dispose());

        Assert.Null(ex);
    }

    [Fact]
    public void A_reader_keeps_out_a_forget_and_a_forget_keeps_out_a_reader()
    {
        OfflineExportException whileRead;
        using (PointFilesLock.Shared(_folder.Path))
        {
            whileRead = Assert.Throws<OfflineExportException>(() => PointFilesLock.Exclusive(_folder.Path).Dispose());
        }

        OfflineExportException whilePruned;
        using (PointFilesLock.Exclusive(_folder.Path))
        {
            whilePruned = Assert.Throws<OfflineExportException>(() => PointFilesLock.Shared(_folder.Path).Dispose());
        }

        Assert.Equal(ErrorKind.BackupFolderProblem, whileRead.Kind);
        Assert.Contains("is being read by a restore or check", whileRead.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.BackupFolderProblem, whilePruned.Kind);
        Assert.Contains("is being pruned by a forget run", whilePruned.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Released_it_can_be_taken_exclusively()
    {
        PointFilesLock.Shared(_folder.Path).Dispose();

        var ex = Record.Exception(() => PointFilesLock.Exclusive(_folder.Path).Dispose());

        Assert.Null(ex);
    }
}
