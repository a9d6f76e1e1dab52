using OfflineExport.Backup;
using OfflineExport.Export;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

/// <content>Checkpoints are their folder's: tagged names, and a copied folder never builds on inherited ones.</content>
public sealed partial class BackupPlannerTests
{
    private const string OriginalId = "1a2b3c4d00000000000000000000000a";
    private const string TaggedA = "offline-export-1a2b3c4d-20261101T010000Z";
    private const string TaggedB = "offline-export-1a2b3c4d-20261102T010000Z";

    private static BackupManifest TaggedManifest(FolderRecord folder) => Manifest(Disk(
        Point(0, PointLevel.Full, TaggedA),
        Point(1, PointLevel.Inc, TaggedB, backing: 0, TaggedA))) with { Folder = folder };

    private static FolderRecord OriginalFolder => new() { Id = OriginalId, Inode = 7 };

    private static FolderRecord CopiedFolder => new() { Id = "5e6f708100000000000000000000000b", Inode = 8, CopiedFrom = [OriginalId] };

    private static DiskSource TaggedSource() => Source(Qcow2(Image, Bitmap(TaggedA), Bitmap(TaggedB)));

    [Fact]
    public void New_checkpoint_names_carry_the_folder_tag()
    {
        var plan = PlanOne(TaggedManifest(OriginalFolder), TaggedSource(), BackupLevel.Auto);

        Assert.Equal(PointLevel.Inc, plan.Level);
        Assert.Equal("offline-export-1a2b3c4d-20261122T013000Z", plan.NextCheckpoint);
    }

    [Fact]
    public void A_copied_folder_makes_a_full_point_instead_of_building_on_the_original_checkpoint()
    {
        var plan = PlanOne(TaggedManifest(CopiedFolder), TaggedSource(), BackupLevel.Auto);

        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Contains($"checkpoint {TaggedB} was started by the backup folder this one is a copy of", plan.Reason, StringComparison.Ordinal);
        Assert.NotNull(plan.Warning);
        Assert.Equal("offline-export-5e6f7081-20261122T013000Z", plan.NextCheckpoint);
    }

    [Theory]
    [InlineData(BackupLevel.Inc)]
    [InlineData(BackupLevel.Diff)]
    public void A_copied_folder_refuses_inc_and_diff_on_inherited_checkpoints(BackupLevel level)
    {
        var error = Assert.Throws<OfflineExportException>(() => PlanOne(TaggedManifest(CopiedFolder), TaggedSource(), level));

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.Contains("a copied folder builds only on checkpoints it started itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_old_folder_that_just_got_its_id_still_builds_on_its_untagged_checkpoints()
    {
        var plan = PlanOne(TwoPointManifest() with { Folder = OriginalFolder }, Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB))), BackupLevel.Inc);

        Assert.Equal([CheckpointB], plan.Checkpoints);
        Assert.StartsWith("offline-export-1a2b3c4d-", plan.NextCheckpoint, StringComparison.Ordinal);
    }
}
