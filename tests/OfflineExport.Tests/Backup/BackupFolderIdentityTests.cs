using OfflineExport.Backup;
using OfflineExport.IO;

namespace OfflineExport.Tests.Backup;

public sealed class BackupFolderIdentityTests
{
    private const string OldId = "1a2b3c4d00000000000000000000000a";
    private const string NewId = "5e6f708100000000000000000000000b";

    private static FileIdentity Folder(ulong inode, ulong device = 42) => new(device, inode, FileKind.Directory, 4096);

    private static BackupManifest Recorded(ulong inode = 7) =>
        new() { Folder = new FolderRecord { Id = OldId, Device = 42, Inode = inode } };

    [Fact]
    public void A_manifest_without_a_folder_record_gets_a_new_id_and_the_folder_inode()
    {
        var (manifest, note) = BackupFolderIdentity.Settle(new BackupManifest(), Folder(7), () => NewId, "/bk");

        Assert.Equal(NewId, manifest.Folder!.Id);
        Assert.Equal(7UL, manifest.Folder.Inode);
        Assert.Equal(42UL, manifest.Folder.Device);
        Assert.Empty(manifest.Folder.CopiedFrom);
        Assert.Null(note);
    }

    [Fact]
    public void The_same_folder_keeps_its_id()
    {
        var (manifest, note) = BackupFolderIdentity.Settle(Recorded(), Folder(7), () => NewId, "/bk");

        Assert.Equal(OldId, manifest.Folder!.Id);
        Assert.Null(note);
    }

    [Fact]
    public void A_remount_that_changes_only_the_device_is_the_same_folder()
    {
        var (manifest, note) = BackupFolderIdentity.Settle(Recorded(), Folder(7, device: 99), () => NewId, "/bk");

        Assert.Equal(OldId, manifest.Folder!.Id);
        Assert.Equal(99UL, manifest.Folder.Device);
        Assert.Null(note);
    }

    [Fact]
    public void A_folder_at_another_inode_is_a_copy_with_a_new_id_that_remembers_the_original()
    {
        var (manifest, note) = BackupFolderIdentity.Settle(Recorded(), Folder(8), () => NewId, "/bk-copy");

        Assert.Equal(NewId, manifest.Folder!.Id);
        Assert.Equal([OldId], manifest.Folder.CopiedFrom);
        Assert.Equal(8UL, manifest.Folder.Inode);
        Assert.StartsWith("backup folder /bk-copy is a copy of another", note, StringComparison.Ordinal);
        Assert.Contains("5e6f7081", note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dry_run_into_a_missing_folder_still_gets_an_id_to_name_checkpoints()
    {
        var (manifest, note) = BackupFolderIdentity.Settle(new BackupManifest(), null, () => NewId, "/bk");

        Assert.Equal(NewId, manifest.Folder!.Id);
        Assert.Null(note);
    }

    [Fact]
    public void Two_new_ids_differ_and_are_32_hex_digits()
    {
        var first = BackupFolderIdentity.NewId();
        var second = BackupFolderIdentity.NewId();

        Assert.NotEqual(first, second);
        Assert.Matches("^[0-9a-f]{32}$", first);
    }
}
