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
    public void Plain_names_pass()
    {
        var manifest = BackupRecords.Manifest(BackupRecords.Disk(BackupRecords.Point(0, PointLevel.Full, "ck0"), BackupRecords.Point(1, PointLevel.Inc, "ck1", 0, "ck0")));

        ManifestValidation.Check(manifest, "/b/manifest.json");
    }
}
