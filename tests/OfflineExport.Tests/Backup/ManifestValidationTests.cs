using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

/// <summary>Names in a manifest become file names: a hostile or hand-edited one must not lead outside the folder.</summary>
public sealed class ManifestValidationTests
{
    [Theory]
    [InlineData("../x")]
    [InlineData("/var/lib/libvirt/images/prod")]
    [InlineData("..")]
    public void A_disk_name_that_is_not_plain_is_refused(string name)
    {
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0")) with { Name = name });

        var error = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(manifest, "/b/manifest.json"));

        Assert.Equal(ErrorKind.BackupFolderProblem, error.Kind);
        Assert.Contains("not a plain name", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x/../../secret/other", null)]
    [InlineData(null, "../ck")]
    public void A_checkpoint_name_that_is_not_plain_is_refused(string? created, string? used)
    {
        var point = BackupRecords.Point(1, PointLevel.Inc, created, 0, used is null ? [] : [used]);
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0"), point) with { CurrentCheckpoint = "ck0" });

        var error = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(manifest, "/b/manifest.json"));

        Assert.Contains("names a checkpoint that is not a plain name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_record_whose_copied_from_list_is_null_is_a_folder_problem_not_a_crash()
    {
        // JSON "copiedFrom": null overrides the initializer; every later use would throw NullReferenceException (exit 10).
        var folder = new FolderRecord { Id = new string('a', 32), CopiedFrom = null! };
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0"))) with { Folder = folder };

        var error = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(manifest, "/b/manifest.json"));

        Assert.Equal(ErrorKind.BackupFolderProblem, error.Kind);
        Assert.Contains("its folder record lacks its id or its list of copied-from folders", error.Message, StringComparison.Ordinal);
        ManifestValidation.Check(manifest with { Folder = folder with { CopiedFrom = [] } }, "/b/manifest.json");
    }

    [Fact]
    public void Two_points_naming_one_file_or_two_disks_of_one_name_are_refused()
    {
        var shared = BackupRecords.Point(1, PointLevel.Inc, "ck1", 0, "ck0") with { File = BackupRecords.Point(0, PointLevel.Full, "ck0").File };
        var sharing = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0"), shared));
        var disk = BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0"));
        var twins = BackupRecords.Manifest(disk) with { Disks = [disk, disk with { Points = [] }] };

        var file = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(sharing, "/b/manifest.json"));
        var name = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(twins, "/b/manifest.json"));

        Assert.Contains("which another point names too", file.Message, StringComparison.Ordinal);
        Assert.Contains("as an earlier disk is", name.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, null, "does not follow the points before it")]
    [InlineData(0, null, "does not follow the points before it")]
    [InlineData(2, 2, "is built on point 2, which is not an earlier point of that disk")]
    [InlineData(2, 5, "is built on point 5, which is not an earlier point of that disk")]
    public void A_point_out_of_order_or_built_on_no_earlier_point_is_refused(int number, int? backing, string expected)
    {
        // Hand edits the planner would take at their word: a new point numbered like an old one, a chain into itself.
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(
            BackupRecords.Point(0, PointLevel.Full, "ck0"), BackupRecords.Point(1, PointLevel.Inc, "ck1", 0, "ck0"), BackupRecords.Point(number, PointLevel.Inc, "ck2", backing, "ck1")));

        var error = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(manifest, "/b/manifest.json"));

        Assert.Equal(ErrorKind.BackupFolderProblem, error.Kind);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vmdk", 1L)]
    [InlineData("qcow2", -1L)]
    public void A_disk_of_another_format_or_a_negative_size_is_refused(string format, long size)
    {
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0")) with { Format = format, VirtualSize = size });

        var error = Assert.Throws<OfflineExportException>(() => ManifestValidation.Check(manifest, "/b/manifest.json"));

        Assert.Contains($"is recorded with format '{format}' and size {size}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_names_pass()
    {
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0"), BackupRecords.Point(1, PointLevel.Inc, "ck1", 0, "ck0")));

        ManifestValidation.Check(manifest, "/b/manifest.json");
    }
}
