using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Changes the bitmaps did not see (issue #10, "Trust"): shrinking a disk and growing it back discards
/// data without marking it dirty (qemu resizes the bitmaps along). The allocation metadata shows it:
/// the previous backup holds data where the disk now reads zeroes outside the dirty ranges.
/// </summary>
public sealed class UntrackedChangeTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["bk"];

    private async Task<BackupResult> BackupAsync(string image, BackupLevel level = BackupLevel.Auto)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var result = await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [image], Target = Folder, Level = level, Verify = true }, null, cts.Token);
        _ws.AssertNothingLeftBehind();
        return result;
    }

    private async Task<string> RestoreAsync(int point)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var output = _ws[$"restored{point}.qcow2"];
        await new RestoreSession(_ws.Options).RunAsync(new RestoreRequest { Folder = Folder, Output = output, Point = point }, cts.Token);
        return output;
    }

    private static async Task<IReadOnlyList<string>> BitmapsAsync(string image) =>
        (await new QemuImg("qemu-img").GetBackingChainAsync(image, "qcow2", CancellationToken.None))[0].Bitmaps.Select(b => b.Name).ToList();

    /// <summary>A 32 MiB disk with data in both halves and a full backup (point 0), then shrunk to 16 MiB and grown back.</summary>
    private async Task<string> ShrunkAndRegrownAfterBackupAsync()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x10 0 2M", "write -P 0x11 20M 4M");
        var first = await BackupAsync(vda);
        Assert.Equal(PointLevel.Full, first.Disks[0].Point!.Level);
        await ImgAsync("resize", "-q", "-f", "qcow2", "--shrink", vda, "16M");
        await ImgAsync("resize", "-q", "-f", "qcow2", vda, "32M");
        await IoAsync(vda, "write -P 0x12 1M 64K");
        return vda;
    }

    [Fact]
    public async Task Shrunk_and_regrown_disk_gets_a_full_point_with_the_reason_and_restores_identical()
    {
        // Arrange
        var vda = await ShrunkAndRegrownAfterBackupAsync();

        // Act
        var second = await BackupAsync(vda);

        // Assert
        var disk = second.Disks[0];
        Assert.Equal(PointLevel.Full, disk.Point!.Level);
        Assert.Equal("vda.1.full.qcow2", disk.Plan.File);
        Assert.Null(disk.Point.BackingPoint);
        Assert.StartsWith("the disk reads as zeroes at offset 20971520", disk.Plan.Reason, StringComparison.Ordinal);
        Assert.Contains("did not record that change", disk.Plan.Reason, StringComparison.Ordinal);
        Assert.Contains(second.Warnings, w => w.StartsWith("vda: new full point: the disk reads as zeroes", StringComparison.Ordinal));
        Assert.Equal(0, await CompareAsync(await RestoreAsync(1), vda));
        Assert.True(disk.Point.Verified);
        Assert.False(File.Exists(Path.Combine(Folder, "vda.1.inc.qcow2")));
        var bitmaps = await BitmapsAsync(vda);
        Assert.Contains(disk.Point.CheckpointCreated!, bitmaps);
    }

    [Fact]
    public async Task Shrunk_and_regrown_disk_refuses_level_inc_with_exit_4_and_keeps_the_checkpoints()
    {
        // Arrange
        var vda = await ShrunkAndRegrownAfterBackupAsync();
        var bitmaps = await BitmapsAsync(vda);

        // Act
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", vda, "--target", Folder, "--level", "inc");

        // Assert
        Assert.Equal(4, code);
        Assert.Contains("vda: cannot make an incremental point: the disk reads as zeroes at offset 20971520", stderr, StringComparison.Ordinal);
        Assert.Equal(bitmaps, await BitmapsAsync(vda)); // the new checkpoint was taken back
        Assert.Single(ManifestStore.LoadExisting(Folder).Disk("vda")!.Points);
        Assert.Empty(Directory.GetFiles(Folder, "vda.1.*"));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Export_with_bitmap_and_backing_refuses_a_shrunk_and_regrown_disk_with_exit_4()
    {
        // Arrange
        var vda = _ws["vda.qcow2"];
        var full = _ws["full.qcow2"];
        var inc = _ws["inc.qcow2"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x10 0 2M", "write -P 0x11 20M 4M");
        var (fullCode, _, fullError) = await CliProcess.RunAsync(_ws, "export", vda, full);
        Assert.True(fullCode == 0, fullError);
        await AddBitmapAsync(vda, "b0");
        await ImgAsync("resize", "-q", "-f", "qcow2", "--shrink", vda, "16M");
        await ImgAsync("resize", "-q", "-f", "qcow2", vda, "32M");
        var before = Sha256All(vda, full);

        // Act
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", vda, inc, "--bitmap", "b0", "--backing", full);

        // Assert
        Assert.Equal(4, code);
        Assert.Contains($"the disk reads as zeroes at offset 20971520 (4194304 bytes) where the previous backup {full} holds data, and checkpoint b0 did not record that change", stderr, StringComparison.Ordinal);
        Assert.Contains("take a full export", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(inc));
        Assert.Empty(Directory.GetFiles(_ws.Root, "inc.qcow2*"));
        Assert.Equal(before, Sha256All(vda, full));
        _ws.AssertNothingLeftBehind();
    }

    /// <summary>
    /// A 32 MiB disk of <paramref name="clusterSize"/> given <paramref name="writes"/>, a full export of it, checkpoint b0,
    /// then shrunk to 16 MiB and grown back with <paramref name="preallocation"/>.
    /// </summary>
    private async Task<(string Disk, string Full)> RegrownAsync(string preallocation, int clusterSize, params string[] writes)
    {
        var vda = _ws["vda.qcow2"];
        var full = _ws["full.qcow2"];
        await CreateQcow2Async(vda, "32M", clusterSize: clusterSize);
        await IoAsync(vda, writes);
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = vda, Format = "qcow2", Output = full }, vda);
        await AddBitmapAsync(vda, "b0");
        await ImgAsync("resize", "-q", "-f", "qcow2", "--shrink", vda, "16M");
        await ImgAsync("resize", "-q", "-f", "qcow2", $"--preallocation={preallocation}", vda, "32M");
        return (vda, full);
    }

    /// <summary>The incremental since b0 of <paramref name="disk"/> onto <paramref name="full"/>, which must fail; nothing may be left of it.</summary>
    private async Task<OfflineExportException> IncrementalFailsAsync(string disk, string full, bool verify, params string[] sourceFiles)
    {
        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws,
            new ExportRequest { Image = disk, Format = "qcow2", Output = _ws["inc.qcow2"], Bitmaps = ["b0"], Backing = full, Verify = verify }, sourceFiles);
        Assert.False(File.Exists(_ws["inc.qcow2"]));
        return error;
    }

    [Fact]
    public async Task A_disk_regrown_with_metadata_preallocation_is_refused_too()
    {
        // The regrown clusters are allocated, and qemu reports them ZERO but not HOLE: still a change.
        var (vda, full) = await RegrownAsync("metadata", 65536, "write -P 0x10 0 2M", "write -P 0x11 20M 4M");

        var error = await IncrementalFailsAsync(vda, full, verify: false, vda);

        Assert.Equal(ErrorKind.UntrackedChange, error.Kind);
        Assert.Contains("the disk reads as zeroes at offset 20971520 (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_regrown_2_MiB_cluster_the_guest_then_wrote_4_KiB_into_is_still_refused()
    {
        // The rest of each such cluster is a hole next to data, as the unwritten rest of any partial write is:
        // the metadata cannot tell the two apart, so allocated zeroes must count as they are (session 28's
        // review broke a rule that counted them by whole clusters with exactly this).
        var (vda, full) = await RegrownAsync("metadata", 2 << 20, "write -P 0x11 0 32M");
        await IoAsync(vda, [.. Enumerable.Range(0, 8).Select(i => $"write -P 0x22 {16 + (2 * i)}M 4k")]);

        var error = await IncrementalFailsAsync(vda, full, verify: false, vda);

        Assert.Equal(ErrorKind.UntrackedChange, error.Kind);
    }

    [Fact]
    public async Task A_regrown_base_under_an_extended_l2_top_is_still_refused()
    {
        // Subclusters of data in the top break every cluster over the re-grown base into pieces.
        var (base_, top, full) = (_ws["base.qcow2"], _ws["top.qcow2"], _ws["full.qcow2"]);
        await CreateQcow2Async(base_, "32M", clusterSize: 2 << 20);
        await IoAsync(base_, "write -P 0x11 0 32M");
        await ImgAsync("create", "-q", "-f", "qcow2", "-o", "cluster_size=2097152,extended_l2=on", "-b", base_, "-F", "qcow2", top);
        await IoAsync(top, [.. Enumerable.Range(0, 16).Select(i => $"write -P 0x22 {2 * i}M 64k")]);
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = top, Format = "qcow2", Output = full }, top, base_);
        await AddBitmapAsync(top, "b0");
        await ImgAsync("resize", "-q", "-f", "qcow2", "--shrink", base_, "16M");
        await ImgAsync("resize", "-q", "-f", "qcow2", "--preallocation=metadata", base_, "32M");

        var error = await IncrementalFailsAsync(top, full, verify: false, top, base_);

        Assert.Equal(ErrorKind.UntrackedChange, error.Kind);
    }

    [Fact]
    public async Task A_regrown_cluster_that_reads_zero_only_in_part_is_still_refused()
    {
        // qemu re-grows with metadata preallocation onto freed host clusters: the first 4 KiB of the cluster at
        // 16 MiB come back as data (reading zero), the rest as allocated zeroes over the previous backup's zero
        // padding. Only the whole cluster shows the change (session 28's third review broke a rule that read the
        // previous backup's bytes range by range with exactly this).
        var (vda, full) = await RegrownAsync("metadata", 2 << 20, "write -P 0x11 16M 4k", "write -P 0x11 24M 4k", "write -z 24M 2M");

        var error = await IncrementalFailsAsync(vda, full, verify: false, vda);

        Assert.Equal(ErrorKind.UntrackedChange, error.Kind);
    }

    [Fact]
    public async Task A_disk_regrown_with_written_zeroes_is_beyond_the_metadata_and_only_verify_stops_the_wrong_incremental()
    {
        // preallocation=full writes the regrown clusters as data: no metadata tells them from the guest's own
        // (the README says so where it lists what a point belongs to). --verify compares every byte and refuses.
        var (vda, full) = await RegrownAsync("full", 65536, "write -P 0x10 0 2M", "write -P 0x11 20M 4M");

        var error = await IncrementalFailsAsync(vda, full, verify: true, vda);

        Assert.Equal(ErrorKind.VerificationFailed, error.Kind);
        Assert.Empty(Directory.GetFiles(_ws.Root, "inc.qcow2*"));
    }

    [Fact]
    public async Task Data_that_only_a_lower_layer_of_the_previous_backup_holds_is_still_looked_at()
    {
        // Arrange: 512-byte clusters, so an L1 entry covers 32 KiB and the previous backup's layers map
        // stretches far apart: the full point maps only 40 MiB, the incremental above it only 1 MiB. The
        // check walks only what the layers map (PreviousBackupMap): the lower layer's stretch must be among them.
        var (vda, full, inc) = (_ws["vda.qcow2"], _ws["full.qcow2"], _ws["inc1.qcow2"]);
        await CreateQcow2Async(vda, "64M", clusterSize: 512);
        await IoAsync(vda, "write -P 0x11 40M 1M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = vda, Format = "qcow2", Output = full }, vda);
        await AddBitmapAsync(vda, "b0");
        await IoAsync(vda, "write -P 0x12 1M 64K");
        await AddBitmapAsync(vda, "b1");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = vda, Format = "qcow2", Output = inc, Bitmaps = ["b0"], Backing = full }, vda);
        await ImgAsync("resize", "-q", "-f", "qcow2", "--shrink", vda, "16M");
        await ImgAsync("resize", "-q", "-f", "qcow2", vda, "64M");

        // Act
        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws,
            new ExportRequest { Image = vda, Format = "qcow2", Output = _ws["inc2.qcow2"], Bitmaps = ["b1"], Backing = inc }, vda, inc, full);

        // Assert
        Assert.Equal(ErrorKind.UntrackedChange, error.Kind);
        Assert.Contains($"the disk reads as zeroes at offset {40 << 20} ({1 << 20} bytes) where the previous backup {inc} holds data", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["inc2.qcow2"]));
    }

    [Fact]
    public async Task Ordinary_changes_with_zero_writes_and_discards_stay_incremental_and_restore_identical()
    {
        // Arrange
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x10 0 2M", "write -P 0x11 20M 4M");
        await BackupAsync(vda);
        await IoAsync(vda, "write -P 0x20 1M 64K", "write -z 20M 1M", "discard 22M 1M", "write -P 0x21 30M 128K");

        // Act
        var second = await BackupAsync(vda);

        // Assert
        var point = second.Disks[0].Point!;
        Assert.Equal(PointLevel.Inc, point.Level);
        Assert.Equal(0, point.BackingPoint);
        Assert.Empty(second.Warnings);
        Assert.Equal(0, await CompareAsync(await RestoreAsync(1), vda));
    }
}
