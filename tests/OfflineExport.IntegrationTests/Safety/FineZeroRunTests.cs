using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Disks whose chain reports zero runs finer than the top's clusters: a raw layer (holes of 4 KiB), an
/// <c>extended_l2</c> layer (unallocated subclusters), a lower layer with smaller clusters. Their backups used to
/// hold such runs as zero padding inside data clusters, and the untracked-change check then refused every
/// incremental after them (exit 4; a backup folder made a full point every night). The backups now take
/// subclusters as fine as those runs (<see cref="OfflineExport.Export.OutputLayout"/>).
/// </summary>
public sealed class FineZeroRunTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["bk"];

    /// <summary>
    /// The disk's top (with 4 KiB of data every 3 MiB + 4 KiB, in the layer <paramref name="kind"/> names), and the
    /// cluster size its backups are expected to have (with subclusters).
    /// </summary>
    private async Task<(string Top, int BackupCluster)> DiskAsync(string kind)
    {
        var top = _ws["vda.qcow2"];
        var writes = Enumerable.Range(0, 20).Select(i => $"write -P 0x{i + 1:x2} {(i * 3L << 20) + 4096} 4k").ToArray();
        switch (kind)
        {
            case "extended_l2":
                await ImgAsync("create", "-q", "-f", "qcow2", "-o", "cluster_size=131072,extended_l2=on", top, "64M");
                await IoAsync(top, writes);
                return (top, 131072);
            case "raw base":
                var raw = _ws["base.raw"];
                await ImgAsync("create", "-q", "-f", "raw", raw, "64M");
                await IoWithFormatAsync(raw, "raw", writes);
                await ImgAsync("create", "-q", "-f", "qcow2", "-b", raw, "-F", "raw", top);
                return (top, 65536);
            case "8 KiB top over raw base":
                var small = _ws["base.raw"];
                await ImgAsync("create", "-q", "-f", "raw", small, "64M");
                await IoWithFormatAsync(small, "raw", writes);
                await ImgAsync("create", "-q", "-f", "qcow2", "-o", "cluster_size=8192", "-b", small, "-F", "raw", top);
                return (top, 16384);
            case "short raw base":
                // 1 MiB + 512 bytes: the disk reads zero from there on, 512 bytes into a subcluster of 2 KiB.
                var shortBase = _ws["base.raw"];
                await ImgAsync("create", "-q", "-f", "raw", shortBase, "1049088");
                await IoWithFormatAsync(shortBase, "raw", "write -P 0x31 4k 4k", "write -P 0x32 1048576 512");
                await ImgAsync("create", "-q", "-f", "qcow2", "-b", shortBase, "-F", "raw", top, "64M");
                return (top, 16384);
            default: // a 64 KiB-cluster top over a 32 KiB-cluster base
                var base_ = _ws["base.qcow2"];
                await CreateQcow2Async(base_, "64M", clusterSize: 32768);
                await IoAsync(base_, writes);
                await CreateQcow2Async(top, "64M", base_);
                return (top, 65536);
        }
    }

    private async Task<BackupResult> BackupAsync(string image)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var result = await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [image], Formats = ["qcow2"], Target = Folder, Verify = true }, null, cts.Token);
        _ws.AssertNothingLeftBehind();
        return result;
    }

    private static async Task<(int Cluster, bool Extended)> LayoutAsync(string image)
    {
        var info = await InfoAsync(image);
        return (info.GetProperty("cluster-size").GetInt32(), info.GetProperty("format-specific").GetProperty("data").GetProperty("extended-l2").GetBoolean());
    }

    [Theory]
    [InlineData("extended_l2")]
    [InlineData("raw base")]
    [InlineData("smaller base clusters")]
    [InlineData("8 KiB top over raw base")]
    [InlineData("short raw base")]
    public async Task The_next_backup_stays_incremental_and_restores_identical(string kind)
    {
        // Arrange
        var (top, cluster) = await DiskAsync(kind);
        var first = await BackupAsync(top);
        Assert.Equal(PointLevel.Full, first.Disks[0].Point!.Level);
        await IoAsync(top, "write -P 0x77 10M 64k", "write -P 0x78 40M 4k", "write -z 3M 8k");

        // Act
        var second = await BackupAsync(top);

        // Assert
        var point = second.Disks[0].Point!;
        Assert.True(point.Level == PointLevel.Inc, second.Disks[0].Plan.Reason);
        Assert.Empty(second.Warnings);
        Assert.Equal((cluster, true), await LayoutAsync(Path.Combine(Folder, first.Disks[0].Plan.File)));
        Assert.Equal((cluster, true), await LayoutAsync(Path.Combine(Folder, second.Disks[0].Plan.File)));
        var restored = _ws["restored.qcow2"];
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        await new RestoreSession(_ws.Options).RunAsync(new RestoreRequest { Folder = Folder, Output = restored, Point = 1 }, cts.Token);
        Assert.Equal(0, await CompareAsync(restored, top));
    }

    [Fact]
    public async Task A_plain_64_KiB_disk_keeps_plain_64_KiB_backups()
    {
        var top = _ws["vda.qcow2"];
        await CreateQcow2Async(top, "64M");
        await IoAsync(top, "write -P 0x01 4k 4k");

        var first = await BackupAsync(top);

        Assert.Equal((65536, false), await LayoutAsync(Path.Combine(Folder, first.Disks[0].Plan.File)));
    }

    [Fact]
    public async Task A_point_that_forget_makes_full_keeps_the_subclusters_and_the_next_backup_stays_incremental()
    {
        // Arrange: three points of an extended_l2 disk; keeping only the newest merges all three into one full point.
        var (top, cluster) = await DiskAsync("extended_l2");
        await BackupAsync(top);
        await IoAsync(top, "write -P 0x71 10M 4k");
        await BackupAsync(top);
        await IoAsync(top, "write -P 0x72 20M 4k");
        await BackupAsync(top);

        // Act
        var forget = await CliProcess.RunAsync(_ws, "forget", Folder, "--keep-last", "1");
        await IoAsync(top, "write -P 0x73 30M 4k");
        var next = await BackupAsync(top);

        // Assert
        Assert.True(forget.ExitCode == 0, forget.Stderr);
        var kept = ManifestStore.LoadExisting(Folder).Disk("vda")!.Point(2)!;
        Assert.Equal(PointLevel.Full, kept.Level);
        Assert.Equal((cluster, true), await LayoutAsync(Path.Combine(Folder, kept.File)));
        Assert.True(next.Disks[0].Point!.Level == PointLevel.Inc, next.Disks[0].Plan.Reason);
        Assert.Equal(2, next.Disks[0].Point!.BackingPoint);
        Assert.Empty(next.Warnings);
    }
}
