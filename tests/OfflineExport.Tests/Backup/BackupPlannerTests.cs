using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.Qemu;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

public sealed partial class BackupPlannerTests
{
    private const string CheckpointA = "offline-export-20261101T010000Z";
    private const string CheckpointB = "offline-export-20261102T010000Z";
    private const string CheckpointC = "offline-export-20261103T010000Z";
    private const string CheckpointD = "offline-export-20261104T010000Z";
    private const string NextName = "offline-export-20261122T013000Z";
    private const string VdaBase = "/var/lib/vm/vda-base.qcow2";
    private const string VdaRawBase = "/var/lib/vm/vda-base.raw";
    private const string VdaRaw = "/var/lib/vm/vda.raw";

    private static readonly DateTimeOffset Now = new(2026, 11, 22, 1, 30, 0, TimeSpan.Zero);

    private static string? AllFilesExist(PointRecord point) => null;

    private static DiskSource Source(params ImageInfo[] topFirst) => new(DiskName, Image, Chain(topFirst));

    private static DiskPlan PlanOne(BackupManifest manifest, DiskSource disk, BackupLevel level, Func<PointRecord, string?>? pointProblem = null) =>
        Assert.Single(BackupPlanner.Plan(manifest, [disk], level, Now, pointProblem ?? AllFilesExist));

    /// <summary>Points 0 (full, started A) and 1 (inc, started B); the current checkpoint is B.</summary>
    private static BackupManifest TwoPointManifest() => Manifest(Disk(
        Point(0, PointLevel.Full, CheckpointA),
        Point(1, PointLevel.Inc, CheckpointB, backing: 0, CheckpointA)));

    // ----- auto: first run and incrementals -----

    [Fact]
    public void Auto_first_run_of_a_disk_makes_full_point_0_and_starts_a_checkpoint()
    {
        // Arrange
        var disk = Source(Qcow2(Image));

        // Act
        var plan = PlanOne(Manifest(), disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal(0, plan.Number);
        Assert.Equal("vda.0.full.qcow2", plan.File);
        Assert.Empty(plan.Checkpoints);
        Assert.Null(plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
        Assert.Same(disk, plan.Disk);
        Assert.False(string.IsNullOrWhiteSpace(plan.Reason));
    }

    [Fact]
    public void Auto_first_run_for_a_disk_recorded_without_points_makes_full_point_0()
    {
        // Arrange
        var manifest = Manifest(Disk());

        // Act
        var plan = PlanOne(manifest, Source(Qcow2(Image)), BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal(0, plan.Number);
        Assert.Equal("vda.0.full.qcow2", plan.File);
    }

    [Theory]
    [InlineData(BackupLevel.Auto)]
    [InlineData(BackupLevel.Inc)]
    public void Later_run_makes_incremental_since_current_checkpoint_backed_by_latest_point(BackupLevel level)
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, level);

        // Assert
        Assert.Equal(PointLevel.Inc, plan.Level);
        Assert.Equal(2, plan.Number);
        Assert.Equal("vda.2.inc.qcow2", plan.File);
        Assert.Equal([CheckpointB], plan.Checkpoints);
        Assert.Same(manifest.Disks[0].Points[1], plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
    }

    [Fact]
    public void Auto_makes_incremental_on_a_qcow2_top_over_a_raw_base()
    {
        // Arrange: only the top can hold checkpoints; a raw base does not prevent an incremental.
        var manifest = Manifest(Disk(Point(0, PointLevel.Full, CheckpointA)));
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA)), Raw(VdaRawBase));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Inc, plan.Level);
        Assert.Equal([CheckpointA], plan.Checkpoints);
        Assert.Equal(0, plan.BackingPoint?.Number);
        Assert.Equal(NextName, plan.NextCheckpoint);
    }

    // ----- auto: fallbacks to full -----

    [Fact]
    public void Auto_with_full_every_makes_a_full_point_once_the_chain_holds_that_many_points()
    {
        // Arrange: the current chain is points 0 (full) and 1 (inc).
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var atTwo = Assert.Single(BackupPlanner.Plan(manifest, [disk], BackupLevel.Auto, Now, AllFilesExist, fullEvery: 2));
        var atThree = Assert.Single(BackupPlanner.Plan(manifest, [disk], BackupLevel.Auto, Now, AllFilesExist, fullEvery: 3));
        var forcedInc = Assert.Single(BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist, fullEvery: 2));

        // Assert
        Assert.Equal(PointLevel.Full, atTwo.Level);
        Assert.Equal("the chain since full point 0 holds 2 points (--full-every 2)", atTwo.Reason);
        Assert.Null(atTwo.BackingPoint);
        Assert.Equal(NextName, atTwo.NextCheckpoint);
        Assert.Equal(PointLevel.Inc, atThree.Level);
        Assert.Equal(PointLevel.Inc, forcedInc.Level);
    }

    [Fact]
    public void Auto_falls_back_to_full_when_the_latest_points_file_is_missing()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto, p => p.File == "vda.1.inc.qcow2" ? "its file is missing" : null);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal(2, plan.Number);
        Assert.Equal("vda.2.full.qcow2", plan.File);
        Assert.Empty(plan.Checkpoints);
        Assert.Null(plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
        Assert.Contains("vda.1.inc.qcow2", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("its file is missing", plan.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_falls_back_to_full_when_the_current_checkpoint_is_missing_from_the_top()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal("vda.2.full.qcow2", plan.File);
        Assert.Empty(plan.Checkpoints);
        Assert.Null(plan.BackingPoint);
        Assert.Contains(CheckpointB, plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_falls_back_to_full_when_the_current_checkpoint_is_inconsistent()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, BitmapWithFlags(CheckpointB, "in-use", "auto")));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.BackingPoint);
        Assert.Contains(CheckpointB, plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_falls_back_to_full_when_the_current_checkpoint_has_a_gap_in_the_chain()
    {
        // Arrange: the top and the base hold B, the layer between does not (its writes were not tracked).
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)), Qcow2(MidPath), Qcow2(VdaBase, Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.BackingPoint);
        Assert.Contains(MidPath, plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_falls_back_to_full_when_the_virtual_size_changed()
    {
        // Arrange
        const long grown = DiskSize * 2;
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)) with { VirtualSize = grown });

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.BackingPoint);
        Assert.Contains(grown.ToString(System.Globalization.CultureInfo.InvariantCulture), plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_with_a_raw_top_makes_a_full_point_without_next_checkpoint_on_the_first_run()
    {
        // Arrange
        var disk = new DiskSource(DiskName, VdaRaw, [Raw(VdaRaw)]);

        // Act
        var plan = PlanOne(Manifest(), disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal("vda.0.full.qcow2", plan.File);
        Assert.Null(plan.NextCheckpoint);
        Assert.Empty(plan.Checkpoints);
        Assert.Null(plan.BackingPoint);
    }

    [Fact]
    public void Auto_with_a_raw_top_makes_a_full_point_again_on_later_runs()
    {
        // Arrange
        var manifest = Manifest(Disk(Point(0, PointLevel.Full, created: null)));
        var disk = new DiskSource(DiskName, VdaRaw, [Raw(VdaRaw)]);

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal(1, plan.Number);
        Assert.Equal("vda.1.full.qcow2", plan.File);
        Assert.Null(plan.NextCheckpoint);
        Assert.Null(plan.BackingPoint);
        Assert.Contains("raw", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_with_a_raw_top_is_full_even_when_the_manifest_has_a_current_checkpoint()
    {
        // Arrange: the disk was qcow2 at the last run and has been converted to raw since.
        var manifest = TwoPointManifest();
        var disk = new DiskSource(DiskName, VdaRaw, [Raw(VdaRaw)]);

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.NextCheckpoint);
        Assert.Null(plan.BackingPoint);
    }
}
