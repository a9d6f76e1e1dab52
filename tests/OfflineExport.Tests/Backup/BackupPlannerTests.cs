using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.Qemu;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

public sealed class BackupPlannerTests
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

    private static bool AllFilesExist(string file) => true;

    private static DiskSource Source(params ImageInfo[] topFirst) => new(DiskName, Image, Chain(topFirst));

    private static DiskPlan PlanOne(BackupManifest manifest, DiskSource disk, BackupLevel level, Func<string, bool>? fileExists = null) =>
        Assert.Single(BackupPlanner.Plan(manifest, [disk], level, Now, fileExists ?? AllFilesExist));

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

    [Fact]
    public void Auto_later_run_makes_incremental_since_current_checkpoint_backed_by_latest_point()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

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
    public void Auto_falls_back_to_full_when_the_latest_points_file_is_missing()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto, file => file != "vda.1.inc.qcow2");

        // Assert
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Equal(2, plan.Number);
        Assert.Equal("vda.2.full.qcow2", plan.File);
        Assert.Empty(plan.Checkpoints);
        Assert.Null(plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
        Assert.Contains("vda.1.inc.qcow2", plan.Reason, StringComparison.Ordinal);
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

    [Fact]
    public void Inc_makes_incremental_since_current_checkpoint_backed_by_latest_point()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Inc);

        // Assert
        Assert.Equal(PointLevel.Inc, plan.Level);
        Assert.Equal(2, plan.Number);
        Assert.Equal("vda.2.inc.qcow2", plan.File);
        Assert.Equal([CheckpointB], plan.Checkpoints);
        Assert.Same(manifest.Disks[0].Points[1], plan.BackingPoint);
        Assert.Equal(NextName, plan.NextCheckpoint);
    }

    [Fact]
    public void Inc_without_any_point_for_the_disk_fails_naming_the_disk()
    {
        // Arrange
        var disk = new DiskSource("data-disk", "/var/lib/vm/data-disk.qcow2", [Qcow2("/var/lib/vm/data-disk.qcow2")]);

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains("data-disk", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_when_the_latest_points_file_is_missing_fails_naming_disk_and_file()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)));

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, file => file != "vda.1.inc.qcow2"));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(CheckpointB, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_when_the_virtual_size_changed_fails()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointB)) with { VirtualSize = DiskSize + 65536 });

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inc_of_a_raw_top_fails()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = new DiskSource(DiskName, VdaRaw, [Raw(VdaRaw)]);

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Inc, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
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
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Diff, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_when_the_full_points_file_is_missing_fails_naming_the_file()
    {
        // Arrange
        var manifest = TwoPointManifest();
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Diff, Now, file => file != "vda.0.full.qcow2"));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(manifest, [disk], BackupLevel.Diff, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(DiskName, ex.Message, StringComparison.Ordinal);
        Assert.Contains(CheckpointA, ex.Message, StringComparison.Ordinal);
    }

    // ----- numbering -----

    [Fact]
    public void Point_number_is_one_more_than_the_highest_existing_number()
    {
        // Arrange: the oldest points were pruned; numbers are not reused.
        var manifest = Manifest(Disk(
            Point(4, PointLevel.Full, CheckpointA),
            Point(5, PointLevel.Inc, CheckpointB, backing: 4, CheckpointA)));
        var disk = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(6, plan.Number);
        Assert.Equal("vda.6.inc.qcow2", plan.File);
    }

    [Fact]
    public void Point_numbers_are_counted_per_disk()
    {
        // Arrange: vda has points 0 and 1, vdb has none yet.
        var manifest = TwoPointManifest();
        var vda = Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB)));
        var vdb = new DiskSource("vdb", "/var/lib/vm/vdb.qcow2", [Qcow2("/var/lib/vm/vdb.qcow2")]);

        // Act
        var plans = BackupPlanner.Plan(manifest, [vda, vdb], BackupLevel.Auto, Now, AllFilesExist);

        // Assert
        Assert.Equal(2, plans.Count);
        Assert.Equal(("vda", PointLevel.Inc, 2, "vda.2.inc.qcow2"), (plans[0].Disk.Name, plans[0].Level, plans[0].Number, plans[0].File));
        Assert.Equal(("vdb", PointLevel.Full, 0, "vdb.0.full.qcow2"), (plans[1].Disk.Name, plans[1].Level, plans[1].Number, plans[1].File));
    }

    // ----- disk names -----

    [Theory]
    [InlineData("vda")]
    [InlineData("0")]
    [InlineData("Disk_1.data-2")]
    public void Valid_disk_names_are_accepted(string name)
    {
        // Arrange
        var disk = new DiskSource(name, $"/var/lib/vm/{name}.qcow2", [Qcow2($"/var/lib/vm/{name}.qcow2")]);

        // Act
        var plan = PlanOne(Manifest(), disk, BackupLevel.Auto);

        // Assert
        Assert.Equal($"{name}.0.full.qcow2", plan.File);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-vda")]
    [InlineData(".vda")]
    [InlineData("_vda")]
    [InlineData("vd a")]
    [InlineData("vd/a")]
    [InlineData("vdä")]
    [InlineData("vda*")]
    public void Invalid_disk_names_are_refused(string name)
    {
        // Arrange
        var disk = new DiskSource(name, $"/var/lib/vm/{name}.qcow2", [Qcow2(Image)]);

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Auto, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disk_name_ending_with_a_newline_is_refused()
    {
        // Arrange: "vda\n.qcow2" is a legal Linux file name; its disk name must not pass as letters and digits.
        var disk = new DiskSource("vda\n", "/var/lib/vm/vda\n.qcow2", [Qcow2(Image)]);

        // Act
        var ex = Record.Exception(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Auto, Now, AllFilesExist));

        // Assert
        var export = Assert.IsType<ExportException>(ex);
        Assert.Equal(ExportErrorKind.InvalidRequest, export.Kind);
    }

    [Fact]
    public void Two_disks_with_the_same_name_are_refused_naming_both_images()
    {
        // Arrange
        var first = new DiskSource("vda", "/var/lib/vm/a/vda.qcow2", [Qcow2("/var/lib/vm/a/vda.qcow2")]);
        var second = new DiskSource("vda", "/var/lib/vm/b/vda.img", [Qcow2("/var/lib/vm/b/vda.img")]);

        // Act
        var ex = Assert.Throws<ExportException>(() => BackupPlanner.Plan(Manifest(), [first, second], BackupLevel.Auto, Now, AllFilesExist));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains("'vda'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/var/lib/vm/a/vda.qcow2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/var/lib/vm/b/vda.img", ex.Message, StringComparison.Ordinal);
    }

    // ----- the next checkpoint -----

    [Fact]
    public void Next_checkpoint_is_named_after_the_start_time_in_utc()
    {
        // Arrange: 03:30 at +02:00 is 01:30 UTC.
        var start = new DateTimeOffset(2026, 11, 22, 3, 30, 0, TimeSpan.FromHours(2));

        // Act
        var plan = Assert.Single(BackupPlanner.Plan(Manifest(), [Source(Qcow2(Image))], BackupLevel.Auto, start, AllFilesExist));

        // Assert
        Assert.Equal(NextName, plan.NextCheckpoint);
    }

    [Fact]
    public void Next_checkpoint_gets_a_suffix_when_the_name_is_taken_by_a_bitmap_in_a_lower_layer()
    {
        // Arrange
        var disk = Source(Qcow2(Image), Qcow2(VdaBase, Bitmap(NextName)));

        // Act
        var plan = PlanOne(Manifest(), disk, BackupLevel.Full);

        // Assert
        Assert.Equal(NextName + "-2", plan.NextCheckpoint);
    }

    [Fact]
    public void Next_checkpoint_skips_every_taken_suffix()
    {
        // Arrange
        var disk = Source(Qcow2(Image, Bitmap(NextName), Bitmap(NextName + "-2")));

        // Act
        var plan = PlanOne(Manifest(), disk, BackupLevel.Full);

        // Assert
        Assert.Equal(NextName + "-3", plan.NextCheckpoint);
    }
}
