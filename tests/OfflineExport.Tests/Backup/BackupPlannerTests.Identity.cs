using OfflineExport.Backup;
using OfflineExport.Export;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

/// <content>A point belongs to the disk it was taken of: identity of the top image.</content>
public sealed partial class BackupPlannerTests
{
    private static DiskIdentity FileOf(ulong inode, string path = Image, bool blockDevice = false) =>
        new() { Path = path, Device = 2049, Inode = inode, BlockDevice = blockDevice, Format = "qcow2", VirtualSize = DiskSize };

    /// <summary>Points 0 and 1 as <see cref="TwoPointManifest"/>, both taken of file 100.</summary>
    private static BackupManifest TwoPointManifestOf(DiskIdentity identity) => Manifest(Disk(
        Point(0, PointLevel.Full, CheckpointA) with { Disk = identity },
        Point(1, PointLevel.Inc, CheckpointB, backing: 0, CheckpointA) with { Disk = identity }));

    private static DiskSource SourceWithCheckpoints(DiskIdentity now, params DiskIdentity[] below) =>
        Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB))) with { Identity = now, LayerIdentities = [now, .. below] };

    [Fact]
    public void Auto_on_the_same_file_goes_on_with_an_incremental()
    {
        var plan = PlanOne(TwoPointManifestOf(FileOf(100)), SourceWithCheckpoints(FileOf(100)), BackupLevel.Auto);

        Assert.Equal(PointLevel.Inc, plan.Level);
        Assert.Null(plan.Warning);
    }

    [Fact]
    public void Auto_on_another_file_at_the_same_path_makes_a_full_point_and_warns()
    {
        var plan = PlanOne(TwoPointManifestOf(FileOf(100)), SourceWithCheckpoints(FileOf(200)), BackupLevel.Auto);

        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.BackingPoint);
        Assert.Empty(plan.Checkpoints);
        Assert.StartsWith("/var/lib/vm/vda.qcow2 is not the disk point 1 was taken of", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("file 2049:100", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("file 2049:200", plan.Reason, StringComparison.Ordinal);
        Assert.StartsWith("vda: new full point: ", plan.Warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BackupLevel.Inc, "incremental")]
    [InlineData(BackupLevel.Diff, "differential")]
    public void Inc_or_diff_on_another_file_is_refused_as_a_checkpoint_problem(BackupLevel level, string word)
    {
        var error = Assert.Throws<OfflineExportException>(() => PlanOne(TwoPointManifestOf(FileOf(100)), SourceWithCheckpoints(FileOf(200)), level));

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.StartsWith($"vda: cannot make a{(word == "incremental" ? "n" : "")} {word} point: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("a replaced or cloned image starts a new chain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_snapshot_whose_backing_layer_is_the_recorded_file_is_the_same_disk()
    {
        var snapshot = FileOf(300, "/var/lib/vm/snap/vda.qcow2");

        var plan = PlanOne(TwoPointManifestOf(FileOf(100)), SourceWithCheckpoints(snapshot, FileOf(100)), BackupLevel.Inc);

        Assert.Equal(PointLevel.Inc, plan.Level);
        Assert.Equal([CheckpointB], plan.Checkpoints);
    }

    [Fact]
    public void Full_level_on_another_file_makes_a_full_point_without_a_warning()
    {
        var plan = PlanOne(TwoPointManifestOf(FileOf(100)), SourceWithCheckpoints(FileOf(200)), BackupLevel.Full);

        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.Warning);
    }

    [Fact]
    public void Points_recorded_before_identities_are_trusted_as_before()
    {
        var plan = PlanOne(TwoPointManifest(), SourceWithCheckpoints(FileOf(200)), BackupLevel.Inc);

        Assert.Equal(PointLevel.Inc, plan.Level);
    }

    [Fact]
    public void Block_device_is_told_by_its_path_not_its_inode()
    {
        var recorded = FileOf(100, "/dev/vg/vda", blockDevice: true);

        var same = PlanOne(TwoPointManifestOf(recorded), SourceWithCheckpoints(FileOf(999, "/dev/vg/vda", blockDevice: true)), BackupLevel.Auto);
        var other = PlanOne(TwoPointManifestOf(recorded), SourceWithCheckpoints(FileOf(100, "/dev/vg/vdb", blockDevice: true)), BackupLevel.Auto);

        Assert.Equal(PointLevel.Inc, same.Level);
        Assert.Equal(PointLevel.Full, other.Level);
    }
}
