using OfflineExport.Backup;
using static OfflineExport.Tests.Backup.BackupRecords;

namespace OfflineExport.Tests.Backup;

public sealed class BackupManifestTests
{
    private static DiskRecord Named(string name, string checkpoint) => Disk(Point(0, PointLevel.Full, checkpoint)) with { Name = name };

    [Fact]
    public void New_manifest_has_format_version_1_and_no_disks()
    {
        // Act
        var manifest = new BackupManifest();

        // Assert
        Assert.Equal(1, manifest.FormatVersion);
        Assert.Empty(manifest.Disks);
    }

    [Fact]
    public void WithDisk_adds_a_new_disk_after_the_existing_ones()
    {
        // Arrange
        var vda = Named("vda", "c-vda");
        var vdb = Named("vdb", "c-vdb");
        var manifest = Manifest(vda);

        // Act
        var updated = manifest.WithDisk(vdb);

        // Assert
        Assert.Equal(["vda", "vdb"], updated.Disks.Select(d => d.Name));
        Assert.Same(vda, updated.Disks[0]);
        Assert.Same(vdb, updated.Disks[1]);
    }

    [Fact]
    public void WithDisk_replaces_the_disk_of_the_same_name_in_place()
    {
        // Arrange
        var manifest = Manifest(Named("vda", "old"), Named("vdb", "c-vdb"));
        var replacement = Named("vda", "new");

        // Act
        var updated = manifest.WithDisk(replacement);

        // Assert
        Assert.Equal(["vda", "vdb"], updated.Disks.Select(d => d.Name));
        Assert.Same(replacement, updated.Disks[0]);
        Assert.Equal("new", updated.Disk("vda")?.CurrentCheckpoint);
    }

    [Fact]
    public void WithDisk_leaves_the_original_manifest_unchanged()
    {
        // Arrange
        var original = Named("vda", "old");
        var manifest = Manifest(original);

        // Act
        _ = manifest.WithDisk(Named("vda", "new"));
        _ = manifest.WithDisk(Named("vdb", "c-vdb"));

        // Assert
        Assert.Same(original, Assert.Single(manifest.Disks));
    }

    [Fact]
    public void WithDisk_keeps_the_format_version()
    {
        // Arrange
        var manifest = new BackupManifest { FormatVersion = 1 };

        // Act
        var updated = manifest.WithDisk(Named("vda", "c"));

        // Assert
        Assert.Equal(1, updated.FormatVersion);
    }

    [Fact]
    public void Disk_finds_a_disk_by_name_and_returns_null_for_an_unknown_one()
    {
        // Arrange
        var manifest = Manifest(Named("vda", "a"), Named("vdb", "b"));

        // Act
        var found = manifest.Disk("vdb");
        var missing = manifest.Disk("vdc");

        // Assert
        Assert.Same(manifest.Disks[1], found);
        Assert.Null(missing);
    }
}
