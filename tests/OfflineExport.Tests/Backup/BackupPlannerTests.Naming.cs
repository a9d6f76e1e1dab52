using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.Qemu;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

/// <content>Point numbers, file names, disk names and the next checkpoint.</content>
public sealed partial class BackupPlannerTests
{
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
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(Manifest(), [disk], BackupLevel.Auto, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
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
        var export = Assert.IsType<OfflineExportException>(ex);
        Assert.Equal(ErrorKind.InvalidRequest, export.Kind);
    }

    [Fact]
    public void Two_disks_with_the_same_name_are_refused_naming_both_images()
    {
        // Arrange
        var first = new DiskSource("vda", "/var/lib/vm/a/vda.qcow2", [Qcow2("/var/lib/vm/a/vda.qcow2")]);
        var second = new DiskSource("vda", "/var/lib/vm/b/vda.img", [Qcow2("/var/lib/vm/b/vda.img")]);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(Manifest(), [first, second], BackupLevel.Auto, Now, AllFilesExist));

        // Assert
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains("'vda'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/var/lib/vm/a/vda.qcow2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/var/lib/vm/b/vda.img", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_file_under_two_names_is_refused_naming_both()
    {
        // Arrange: a symlink to the disk given beside the disk itself (two names, one device and inode).
        var file = new DiskIdentity { Path = "/var/lib/vm/vda.qcow2", Device = 2049, Inode = 77, Format = "qcow2" };
        var first = new DiskSource("vda", "/var/lib/vm/vda.qcow2", [Qcow2("/var/lib/vm/vda.qcow2")]) { Identity = file };
        var second = new DiskSource("vda-link", "/root/vda-link.qcow2", [Qcow2("/root/vda-link.qcow2")]) { Identity = file with { Path = "/var/lib/vm/vda.qcow2" } };
        var other = new DiskSource("vdb", "/var/lib/vm/vdb.qcow2", [Qcow2("/var/lib/vm/vdb.qcow2")]) { Identity = file with { Inode = 78 } };

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => BackupPlanner.Plan(Manifest(), [first, other, second], BackupLevel.Auto, Now, AllFilesExist));
        var plans = BackupPlanner.Plan(Manifest(), [first, other], BackupLevel.Auto, Now, AllFilesExist);

        // Assert
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.StartsWith("/var/lib/vm/vda.qcow2 and /root/vda-link.qcow2 are the same disk", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, plans.Count);
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

    [Fact]
    public void Next_checkpoint_never_reuses_a_name_the_manifest_still_records()
    {
        // Arrange: the point's checkpoint was pruned from the image, but the manifest still names it.
        var manifest = Manifest(Disk(Point(0, PointLevel.Full, NextName), Point(1, PointLevel.Inc, NextName + "-2", 0, NextName)));
        var disk = Source(Qcow2(Image, Bitmap(NextName + "-2")));

        // Act
        var plan = PlanOne(manifest, disk, BackupLevel.Auto);

        // Assert
        Assert.Equal(NextName + "-3", plan.NextCheckpoint);
    }
}
