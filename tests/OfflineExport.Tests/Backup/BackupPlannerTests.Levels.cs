using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.Qemu;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

/// <content>Forced levels: full, inc and diff.</content>
public sealed partial class BackupPlannerTests
{
    // ----- full -----

    [Fact]
    public void Full_makes_a_new_chain_even_when_an_incremental_is_possible()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Full);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal(2, plan.Number);
        Assert.Equal("vda.2.full.qcow2", plan.File);
        Assert.Empty(plan.Checkpoints);
        Assert.Null(plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
    }

    [Fact]
    public void Full_of_a_raw_top_has_no_next_checkpoint()
    {
        // Arrange
        var disk = new DiskSource(DiskName, VdaRaw, [Raw(VdaRaw)]);

        // Act
        var plan = PlanOne(Manifest(), disk, BackupLevel.Full);

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Null(plan.NextCheckpoint);
    }

    // ----- inc -----

    // Inc on a later run: the Auto/Inc theory in BackupPlannerTests.cs.

    [Fact]
    public void Inc_without_any_point_for_the_disk_fails_naming_the_disk()
    {
        // Arrange
        var disk = new DiskSource("data-disk", "/var/lib/vm/data-disk.qcow2", [Qcow2("/var/lib/vm/data-disk.qcow2")]);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains("data-disk", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_when_the_latest_points_file_is_missing_fails_naming_disk_and_file()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, p => p.File == "vda.1.inc.qcow2" ? "its file is missing" : null));

        // Assert
        Assert.Equal(ErrorKind.DamagedPoint, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("vda.1.inc.qcow2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_when_the_current_checkpoint_is_gone_fails_naming_the_checkpoint()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA)));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
        Assert.Contains(CheckpointB, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_when_the_current_checkpoint_is_disabled_fails()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, BitmapWithFlags(CheckpointB)));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains(CheckpointB, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_when_the_virtual_size_changed_fails()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)) with { VirtualSize = DiskSize + 65536 });

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_of_a_raw_top_fails()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = new DiskSource(DiskName, VdaRaw, [Raw(VdaRaw)]);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));
        var diff = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Diff, Now, AllFilesExist));

        // Assert: the disk's format is the reason, whatever the folder holds (it said "no point yet", and diff an empty checkpoint name).
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Equal($"{DiskName}: cannot make an incremental point: {VdaRaw} is a raw image, which cannot hold checkpoints: only full points (--level auto makes them by itself)", ex.Message);
        Assert.Equal(ErrorKind.InvalidRequest, diff.Kind);
        Assert.StartsWith($"{DiskName}: cannot make a differential point: {VdaRaw} is a raw image", diff.Message, StringComparison.Ordinal);
    }

    // ----- diff -----

    [Fact]
    public void Diff_exports_every_checkpoint_of_the_chain_still_in_the_top_backed_by_the_full_point()
    {
        // Arrange: 0 full (A), 1 inc (B), 2 inc (C); B has been removed from the image since.
        var manifest = Manifest(Disk(
            Point(0, PointLevel.Full, CheckpointA),
            Point(1, PointLevel.Inc, CheckpointB, backing: 0, CheckpointA),
            Point(2, PointLevel.Inc, CheckpointC, backing: 1, CheckpointB)));
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointC)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Diff);

        // Assert
        Assert.Equal(PointLevel.Diff, plan.Level);
        Assert.Equal(3, plan.Number);
        Assert.Equal("vda.3.diff.qcow2", plan.File);
        Assert.Equal([CheckpointA, CheckpointC], plan.Checkpoints.Order(StringComparer.Ordinal));
        Assert.Same(manifest.Disks[0].Points[0], plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
    }

    [Fact]
    public void Diff_uses_only_the_current_chain_and_its_last_full_point()
    {
        // Arrange: an older chain (0, 1) and the current one (2, 3); every checkpoint is still in the top.
        var manifest = Manifest(Disk(
            Point(0, PointLevel.Full, CheckpointA),
            Point(1, PointLevel.Inc, CheckpointB, backing: 0, CheckpointA),
            Point(2, PointLevel.Full, CheckpointC),
            Point(3, PointLevel.Inc, CheckpointD, backing: 2, CheckpointC)));
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB), Bitmap(CheckpointC), Bitmap(CheckpointD)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Diff);

        // Assert
        Assert.Equal(PointLevel.Diff, plan.Level);
        Assert.Equal(4, plan.Number);
        Assert.Equal([CheckpointC, CheckpointD], plan.Checkpoints.Order(StringComparer.Ordinal));
        Assert.Same(manifest.Disks[0].Points[2], plan.BackingPoint);
    }

    [Fact]
    public void Diff_after_a_diff_is_still_backed_by_the_full_point()
    {
        // Arrange
        var manifest = Manifest(Disk(
            Point(0, PointLevel.Full, CheckpointA),
            Point(1, PointLevel.Diff, CheckpointB, backing: 0, CheckpointA)));
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Diff);

        // Assert
        Assert.Equal(PointLevel.Diff, plan.Level);
        Assert.Equal("vda.2.diff.qcow2", plan.File);
        Assert.Equal([CheckpointA, CheckpointB], plan.Checkpoints.Order(StringComparer.Ordinal));
        Assert.Equal(0, plan.BackingPoint?.Number);
    }

    [Fact]
    public void Diff_right_after_the_full_point_exports_its_checkpoint()
    {
        // Arrange
        var manifest = Manifest(Disk(Point(0, PointLevel.Full, CheckpointA)));
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Diff);

        // Assert
        Assert.Equal(PointLevel.Diff, plan.Level);
        Assert.Equal("vda.1.diff.qcow2", plan.File);
        Assert.Equal([CheckpointA], plan.Checkpoints);
        Assert.Equal(0, plan.BackingPoint?.Number);
    }

    [Fact]
    public void Diff_without_a_full_point_fails_naming_the_disk()
    {
        // Arrange
        var disk = Source(Qcow2(Image));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Diff, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_when_the_full_points_file_is_missing_fails_naming_the_file()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Diff, Now, p => p.File == "vda.0.full.qcow2" ? "its file is missing" : null));

        // Assert
        Assert.Equal(ErrorKind.DamagedPoint, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("vda.0.full.qcow2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_when_the_full_points_checkpoint_is_gone_fails_naming_the_checkpoint()
    {
        // Arrange: A (started by the full point) is gone, B (the current one) is still there.
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Diff, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
        Assert.Contains(CheckpointA, ex.Message, StringComparison.Ordinal);
    }
}
