using OfflineExport.Backup;
using static OfflineExport.Tests.Backup.BackupRecords;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Backup;

/// <content>An incremental the export found wrong becomes the same point as a full one.</content>
public sealed partial class BackupPlannerTests
{
    [Fact]
    public void Full_instead_keeps_number_and_next_checkpoint_and_drops_the_backing()
    {
        var incremental = PlanOne(TwoPointManifest(), Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB))), BackupLevel.Auto);

        var full = BackupPlanner.FullInstead(incremental, "the disk reads as zeroes at offset 0");

        Assert.Equal(PointLevel.Inc, incremental.Level);
        Assert.Equal(PointLevel.Full, full.Level);
        Assert.Equal(2, full.Number);
        Assert.Equal("vda.2.full.qcow2", full.File);
        Assert.Empty(full.Checkpoints);
        Assert.Null(full.BackingPoint);
        Assert.Equal(incremental.NextCheckpoint, full.NextCheckpoint);
        Assert.Equal("the disk reads as zeroes at offset 0", full.Reason);
        Assert.Equal("vda: new full point: the disk reads as zeroes at offset 0", full.Warning);
    }

    [Fact]
    public void The_reason_for_a_full_point_reads_as_one_sentence_without_the_advice_being_followed()
    {
        var incremental = PlanOne(TwoPointManifest(), Source(Qcow2(Image, Bitmap(CheckpointA), Bitmap(CheckpointB))), BackupLevel.Auto);

        var full = BackupPlanner.FullInstead(incremental, "checkpoint B did not record that change; take a full export");

        Assert.Equal("checkpoint B did not record that change", full.Reason);
    }
}
