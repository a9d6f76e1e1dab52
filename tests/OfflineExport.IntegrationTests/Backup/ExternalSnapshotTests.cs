using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Backup;

/// <summary>
/// An external snapshot (as <c>virsh snapshot-create-as --disk-only</c> leaves it: a new top layer with no bitmaps)
/// between two backups (issue 13): an empty new layer still allows an exact incremental; one with data gets a full
/// point and the advice that keeps the chain, which then works.
/// </summary>
public sealed class ExternalSnapshotTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["backups"];

    private async Task<BackupResult> BackupAsync(string image)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var result = await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [image], Names = ["vda"], Target = Folder, Verify = true }, null, cts.Token);
        _ws.AssertNothingLeftBehind();
        return result;
    }

    /// <summary>A disk with two points, then an external snapshot on it.</summary>
    private async Task<(string Base, string Overlay)> SnapshotAfterTwoPointsAsync()
    {
        var disk = _ws["vda.qcow2"];
        await CreateQcow2Async(disk, "32M");
        await IoAsync(disk, "write -P 0x11 0 4M");
        await BackupAsync(disk);
        await IoAsync(disk, "write -P 0x22 8M 1M");
        await BackupAsync(disk);
        await IoAsync(disk, "write -P 0x33 12M 1M"); // after the last point, before the snapshot: only the base's checkpoint saw it
        var overlay = _ws["vda.snap1.qcow2"];
        await CreateOverlayAsync(overlay, disk);
        return (disk, overlay);
    }

    [Fact]
    public async Task An_empty_snapshot_layer_still_gets_an_exact_incremental_and_says_why()
    {
        var (disk, overlay) = await SnapshotAfterTwoPointsAsync();

        var run = await BackupAsync(overlay);
        await IoAsync(overlay, "write -P 0x44 16M 64K");
        var after = await BackupAsync(overlay);

        var point = run.Disks[0];
        Assert.Equal(PointLevel.Inc, point.Point!.Level);
        Assert.Equal(1UL << 20, point.Export.BytesCopied);
        Assert.True(point.Export.Verified);
        Assert.Contains(point.Export.Notes, n => n.Contains($"is read from {disk}", StringComparison.Ordinal) && n.Contains("holds no data yet, so no write escaped it", StringComparison.Ordinal));
        Assert.Equal(PointLevel.Inc, after.Disks[0].Point!.Level);
        Assert.Equal(64UL << 10, after.Disks[0].Export.BytesCopied);
        Assert.True(after.Disks[0].Export.Verified);
    }

    [Fact]
    public async Task A_snapshot_layer_with_data_gets_a_full_point_with_the_advice_and_the_advice_keeps_the_chain()
    {
        var (_, overlay) = await SnapshotAfterTwoPointsAsync();
        var current = ManifestStore.Load(Folder).Disks.Single().CurrentCheckpoint!;
        await IoAsync(overlay, "write -P 0x55 20M 64K"); // the VM ran on the new layer: untracked

        var full = await BackupAsync(overlay);

        var warning = Assert.Single(full.Warnings);
        Assert.Equal(PointLevel.Full, full.Disks[0].Point!.Level);
        Assert.Contains($"holds data written since, which no checkpoint recorded", warning, StringComparison.Ordinal);
        Assert.Contains("qemu-img bitmap --add --enable", warning, StringComparison.Ordinal);

        // The advice, followed at the next snapshot: the chain goes on with an incremental.
        var next = ManifestStore.Load(Folder).Disks.Single().CurrentCheckpoint!;
        Assert.NotEqual(current, next);
        var second = _ws["vda.snap2.qcow2"];
        await CreateOverlayAsync(second, overlay);
        await AddBitmapAsync(second, next);
        await IoAsync(second, "write -P 0x66 24M 128K");
        var inc = await BackupAsync(second);

        Assert.Equal(PointLevel.Inc, inc.Disks[0].Point!.Level);
        Assert.Equal(128UL << 10, inc.Disks[0].Export.BytesCopied);
        Assert.True(inc.Disks[0].Export.Verified);
    }
}
