using OfflineExport.Backup;
using static OfflineExport.Tests.Backup.BackupRecords;

namespace OfflineExport.Tests.Backup;

public sealed class DiskRecordTests
{
    [Fact]
    public void CurrentChain_of_a_disk_without_points_is_empty()
    {
        // Arrange
        var disk = Disk();

        // Act
        var chain = disk.CurrentChain;

        // Assert
        Assert.Empty(chain);
    }

    [Fact]
    public void CurrentChain_without_any_full_point_is_empty()
    {
        // Arrange: the full point was pruned from the manifest.
        var disk = Disk(Point(1, PointLevel.Inc, "c1", backing: 0), Point(2, PointLevel.Inc, "c2", backing: 1));

        // Act
        var chain = disk.CurrentChain;

        // Assert
        Assert.Empty(chain);
    }

    [Fact]
    public void CurrentChain_of_a_single_full_point_is_that_point()
    {
        // Arrange
        var full = Point(0, PointLevel.Full, "c0");
        var disk = Disk(full);

        // Act
        var chain = disk.CurrentChain;

        // Assert
        Assert.Same(full, Assert.Single(chain));
    }

    [Fact]
    public void CurrentChain_is_the_last_full_point_and_every_point_after_it()
    {
        // Arrange
        var disk = Disk(
            Point(0, PointLevel.Full, "c0"),
            Point(1, PointLevel.Inc, "c1", backing: 0),
            Point(2, PointLevel.Full, "c2"),
            Point(3, PointLevel.Inc, "c3", backing: 2),
            Point(4, PointLevel.Diff, "c4", backing: 2));

        // Act
        var chain = disk.CurrentChain;

        // Assert
        Assert.Equal([2, 3, 4], chain.Select(p => p.Number));
    }

    [Fact]
    public void CurrentChain_when_the_latest_point_is_full_is_only_that_point()
    {
        // Arrange
        var disk = Disk(Point(0, PointLevel.Full, "c0"), Point(1, PointLevel.Inc, "c1", backing: 0), Point(2, PointLevel.Full, "c2"));

        // Act
        var chain = disk.CurrentChain;

        // Assert
        Assert.Equal(2, Assert.Single(chain).Number);
    }

    [Fact]
    public void Latest_is_the_last_point()
    {
        // Arrange
        var disk = Disk(Point(0, PointLevel.Full, "c0"), Point(1, PointLevel.Inc, "c1", backing: 0));

        // Act
        var latest = disk.Latest;

        // Assert
        Assert.Same(disk.Points[1], latest);
    }

    [Fact]
    public void Latest_of_a_disk_without_points_is_null()
    {
        // Arrange
        var disk = Disk();

        // Act
        var latest = disk.Latest;

        // Assert
        Assert.Null(latest);
    }

    [Fact]
    public void Point_finds_a_point_by_number_and_returns_null_for_an_unknown_number()
    {
        // Arrange
        var disk = Disk(Point(3, PointLevel.Full, "c3"), Point(4, PointLevel.Inc, "c4", backing: 3));

        // Act
        var found = disk.Point(4);
        var missing = disk.Point(0);

        // Assert
        Assert.Same(disk.Points[1], found);
        Assert.Null(missing);
    }

    [Fact]
    public void KnownFormat_is_the_recorded_format_when_there_is_one()
    {
        // Arrange: recorded raw although the point started a checkpoint (the record wins).
        var disk = Disk(Point(0, PointLevel.Full, "c0")) with { Format = "raw" };

        // Act
        var format = disk.KnownFormat;

        // Assert
        Assert.Equal("raw", format);
    }

    [Fact]
    public void KnownFormat_of_an_older_record_is_qcow2_when_its_latest_point_started_a_checkpoint()
    {
        // Arrange
        var disk = Disk(Point(0, PointLevel.Full, "c0"), Point(1, PointLevel.Inc, "c1", backing: 0, "c0"));

        // Act
        var format = disk.KnownFormat;

        // Assert
        Assert.Null(disk.Format);
        Assert.Equal("qcow2", format);
    }

    [Fact]
    public void KnownFormat_of_an_older_record_is_raw_when_its_latest_point_started_no_checkpoint()
    {
        // Arrange: only a raw disk, which cannot hold one, gets a point without a new checkpoint.
        var disk = Disk(Point(0, PointLevel.Full, null), Point(1, PointLevel.Full, null));

        // Act
        var format = disk.KnownFormat;

        // Assert
        Assert.Equal("raw", format);
    }

    [Fact]
    public void KnownFormat_of_an_older_record_without_points_is_unknown()
    {
        // Act
        var format = Disk().KnownFormat;

        // Assert
        Assert.Null(format);
    }
}
