using OfflineExport.Backup;
using static OfflineExport.Tests.Backup.BackupRecords;

namespace OfflineExport.Tests.Backup;

public sealed class CheckpointRetentionTests
{
    private static readonly FolderRecord Folder = new() { Id = "1a2b3c4d00000000000000000000000a", Inode = 7 };

    private static string Ours(int day) => $"offline-export-1a2b3c4d-202611{day:00}T010000Z";

    private static HashSet<string> Present(params string[] names) => names.ToHashSet(StringComparer.Ordinal);

    /// <summary>A full point on day 1, then incrementals on days 2.. <paramref name="lastDay"/>, each starting its day's checkpoint.</summary>
    private static DiskRecord Nightly(int lastDay) => Disk([
        Point(0, PointLevel.Full, Ours(1)),
        .. Enumerable.Range(2, lastDay - 1).Select(day => Point(day - 1, PointLevel.Inc, Ours(day), backing: day - 2, Ours(day - 1))),
    ]);

    [Fact]
    public void Keeps_the_newest_and_the_chain_start_and_removes_the_rest_oldest_first()
    {
        var disk = Nightly(6);

        var removed = CheckpointRetention.ToRemove(disk, Folder, 2, Present(Ours(1), Ours(2), Ours(3), Ours(4), Ours(5), Ours(6)));

        // Day 1 started the chain's full point: a differential still needs it.
        Assert.Equal([Ours(2), Ours(3), Ours(4)], removed);
    }

    [Fact]
    public void Names_only_what_the_image_still_holds()
    {
        var removed = CheckpointRetention.ToRemove(Nightly(5), Folder, 1, Present(Ours(3), Ours(5)));

        Assert.Equal([Ours(3)], removed);
    }

    [Fact]
    public void Never_names_another_folders_or_libvirts_checkpoints()
    {
        var foreign = "offline-export-99999999-20261103T010000Z";
        var disk = Disk(
            Point(0, PointLevel.Full, Ours(1)),
            Point(1, PointLevel.Inc, foreign, backing: 0, Ours(1)),
            Point(2, PointLevel.Inc, "libvirt-ck-3", backing: 1, foreign),
            Point(3, PointLevel.Inc, Ours(4), backing: 2, "libvirt-ck-3"));

        var removed = CheckpointRetention.ToRemove(disk, Folder, 1, Present(Ours(1), foreign, "libvirt-ck-3", Ours(4)));

        Assert.Empty(removed);
    }

    [Fact]
    public void A_copied_folder_keeps_its_hands_off_the_checkpoints_it_inherited()
    {
        var copy = new FolderRecord { Id = "5e6f708100000000000000000000000b", Inode = 8, CopiedFrom = [Folder.Id] };

        var removed = CheckpointRetention.ToRemove(Nightly(4), copy, 1, Present(Ours(1), Ours(2), Ours(3), Ours(4)));

        Assert.Empty(removed);
    }

    [Fact]
    public void Keeping_zero_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CheckpointRetention.ToRemove(Nightly(2), Folder, 0, Present()));
}
