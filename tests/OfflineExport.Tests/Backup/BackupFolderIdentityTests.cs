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
    public void A_copy_that_got_the_original_s_inode_number_on_a_fresh_file_system_is_told_by_its_birth_time()
    {
        const long born = 1_796_000_000_123_000_000;
        var recorded = new BackupManifest { Folder = new FolderRecord { Id = OldId, Device = 42, Inode = 2, Born = born } };

        var (same, sameNote) = BackupFolderIdentity.Settle(recorded, Folder(2, device: 77) with { BirthTime = born }, () => NewId, "/mnt/usb/web1");
        var (copy, copyNote) = BackupFolderIdentity.Settle(recorded, Folder(2, device: 77) with { BirthTime = born + 86_400_000_000_000 }, () => NewId, "/mnt/usb/web1");

        Assert.Equal(OldId, same.Folder!.Id);
        Assert.Null(sameNote);
        Assert.Equal(NewId, copy.Folder!.Id);
        Assert.Equal([OldId], copy.Folder.CopiedFrom);
        Assert.Equal(born + 86_400_000_000_000, copy.Folder.Born);
        Assert.StartsWith("backup folder /mnt/usb/web1 is a copy of another (inode 2 as before, but the folder was created 2026-12-01 00:53:20.123 UTC, not 2026-11-30 00:53:20.123 UTC)", copyNote, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_without_a_birth_time_gets_it_and_a_file_system_without_one_falls_back_to_the_inode()
    {
        var (learned, learnedNote) = BackupFolderIdentity.Settle(Recorded(), Folder(7) with { BirthTime = 5 }, () => NewId, "/bk");
        var recordedBorn = new BackupManifest { Folder = new FolderRecord { Id = OldId, Device = 42, Inode = 7, Born = 5 } };
        var (nfs, nfsNote) = BackupFolderIdentity.Settle(recordedBorn, Folder(7), () => NewId, "/bk");

        Assert.Equal(OldId, learned.Folder!.Id);
        Assert.Equal(5, learned.Folder.Born);
        Assert.Null(learnedNote);
        Assert.Equal(OldId, nfs.Folder!.Id);
        Assert.Equal(5, nfs.Folder.Born);
        Assert.Null(nfsNote);
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
