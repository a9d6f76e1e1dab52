using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Backup;

/// <summary>The backup-folder workflow on real qemu: rotation, points, restore, several disks, all or nothing.</summary>
public sealed class BackupWorkflowTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Dir => _ws["backups"];

    private async Task<BackupResult> BackupAsync(BackupLevel level = BackupLevel.Auto, int? keep = null, params string[] images)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var result = await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = images, Target = Dir, Level = level, Verify = true, KeepCheckpoints = keep }, null, cts.Token);
        _ws.AssertNothingLeftBehind();
        return result;
    }

    private async Task<RestoreResult> RestoreAsync(string output, int? point = null, string? disk = null, string? folder = null)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        return await new RestoreSession(_ws.Options).RunAsync(new RestoreRequest { Folder = folder ?? Dir, Output = output, Point = point, Disk = disk }, cts.Token);
    }

    /// <summary>A copy of the disk as the guest sees it now, to compare restored points with.</summary>
    private async Task<string> SnapshotAsync(string image, string name)
    {
        var copy = _ws[name];
        await ImgAsync("convert", "-O", "qcow2", image, copy);
        return copy;
    }

    private static async Task<IReadOnlyList<string>> BitmapNamesAsync(string image) =>
        (await new QemuImg("qemu-img").GetBackingChainAsync(image, "qcow2", CancellationToken.None))[0].Bitmaps.Select(b => b.Name + ":" + string.Join("+", b.Flags)).ToList();

    [Fact]
    public async Task Three_cycles_restore_every_point_and_incrementals_hold_only_their_window()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "128M");
        await IoAsync(vda, "write -P 0x10 0 24M", "write -P 0x11 64M 8M");
        var at0 = await SnapshotAsync(vda, "at0.qcow2");
        var run0 = await BackupAsync(images: vda);

        await IoAsync(vda, "write -P 0x20 1M 64K", "write -z 4M 1M", "discard 64M 1M");
        var at1 = await SnapshotAsync(vda, "at1.qcow2");
        var run1 = await BackupAsync(images: vda);

        await IoAsync(vda, "write -P 0x30 100M 192K", "write -P 0x31 1M 64K", "write -z 8M 64K");
        var at2 = await SnapshotAsync(vda, "at2.qcow2");
        var run2 = await BackupAsync(images: vda);

        Assert.Equal([PointLevel.Full, PointLevel.Inc, PointLevel.Inc], new[] { run0, run1, run2 }.Select(r => r.Disks[0].Point!.Level));
        Assert.Equal(64L << 10, await TopLayerDataBytesAsync(Path.Combine(Dir, "vda.1.inc.qcow2")));
        Assert.Equal(256L << 10, await TopLayerDataBytesAsync(Path.Combine(Dir, "vda.2.inc.qcow2")));
        foreach (var (point, expected) in new[] { (0, at0), (1, at1), (2, at2) })
        {
            var restored = _ws[$"restored{point}.qcow2"];
            var result = await RestoreAsync(restored, point);
            Assert.Equal(point + 1, result.ChainLength);
            Assert.Equal(0, await CompareAsync(restored, expected));
            Assert.False((await InfoAsync(restored)).TryGetProperty("backing-filename", out _));
        }

        var manifest = ManifestStore.LoadExisting(Dir);
        var disk = Assert.Single(manifest.Disks);
        Assert.Equal(run2.Disks[0].Point!.CheckpointCreated, disk.CurrentCheckpoint);
        Assert.Equal([null, 0, 1], disk.Points.Select(p => p.BackingPoint));
        Assert.Equal(run0.Disks[0].Point!.CheckpointCreated, Assert.Single(disk.Points[1].CheckpointsUsed));
        Assert.All(disk.Points, p => Assert.True(p.Verified));
        Assert.All(disk.Points, p => Assert.Equal(vda, p.Source));
    }

    [Fact]
    public async Task A_disk_with_nothing_dirty_gets_a_point_no_larger_than_an_empty_qcow2_overlay()
    {
        var vda = _ws["vda.qcow2"];
        var vdb = _ws["vdb.qcow2"];
        await CreateQcow2Async(vda, "64G");
        await CreateQcow2Async(vdb, "16M");
        await IoAsync(vda, "write -P 0x10 0 4M");
        await IoAsync(vdb, "write -P 0x20 0 1M");
        await BackupAsync(BackupLevel.Auto, null, vda, vdb);
        await IoAsync(vdb, "write -P 0x21 0 64K"); // only vdb changes

        var run = await BackupAsync(BackupLevel.Auto, null, vda, vdb);

        // Every run has one point per disk; the unchanged disk's is an overlay with nothing in it.
        Assert.Equal([PointLevel.Inc, PointLevel.Inc], run.Disks.Select(d => d.Point!.Level));
        var empty = _ws["empty-overlay.qcow2"];
        await CreateOverlayAsync(empty, Path.Combine(Dir, "vda.0.full.qcow2"));
        var point = Path.Combine(Dir, run.Disks[0].Point!.File);
        Assert.Equal(0UL, run.Disks[0].Export.BytesCopied);
        Assert.True(new FileInfo(point).Length <= new FileInfo(empty).Length + 65536, $"{new FileInfo(point).Length} bytes against {new FileInfo(empty).Length} for an empty overlay");
        Assert.Equal(0L, await TopLayerDataBytesAsync(point));
        await RestoreAsync(_ws["r.qcow2"], disk: "vda");
        Assert.Equal(0, await CompareAsync(_ws["r.qcow2"], vda));
    }

    [Fact]
    public async Task Moved_backup_folder_still_restores()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x10 0 4M");
        await BackupAsync(images: vda);
        await IoAsync(vda, "write -P 0x20 8M 64K");
        await BackupAsync(images: vda);
        var now = await SnapshotAsync(vda, "now.qcow2");

        var moved = _ws["elsewhere"];
        Directory.Move(Dir, moved);
        await RestoreAsync(_ws["restored.qcow2"], folder: moved);

        Assert.Equal(0, await CompareAsync(_ws["restored.qcow2"], now));
    }

    [Fact]
    public async Task Two_disks_are_backed_up_together_and_restored_by_name()
    {
        var vda = _ws["vda.qcow2"];
        var vdb = _ws["vdb.qcow2"];
        await CreateQcow2Async(vda, "32M");
        await CreateQcow2Async(vdb, "16M");
        await IoAsync(vda, "write -P 0xaa 0 2M");
        await IoAsync(vdb, "write -P 0xbb 0 1M");
        await BackupAsync(BackupLevel.Auto, null, vda, vdb);
        await IoAsync(vdb, "write -P 0xbc 4M 64K");
        var run = await BackupAsync(BackupLevel.Auto, null, vda, vdb);

        Assert.Equal(["vda", "vdb"], run.Disks.Select(d => d.Plan.Disk.Name));
        await RestoreAsync(_ws["a.qcow2"], disk: "vda");
        await RestoreAsync(_ws["b.qcow2"], disk: "vdb");
        Assert.Equal(0, await CompareAsync(_ws["a.qcow2"], vda));
        Assert.Equal(0, await CompareAsync(_ws["b.qcow2"], vdb));
        var ambiguous = await Assert.ThrowsAsync<OfflineExportException>(() => RestoreAsync(_ws["c.qcow2"]));
        Assert.Contains("holds several disks (vda, vdb); choose one with --disk", ambiguous.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_run_leaves_folder_manifest_and_checkpoints_exactly_as_before()
    {
        var vda = _ws["vda.qcow2"];
        var vdb = _ws["vdb.qcow2"];
        await CreateQcow2Async(vda, "64M");
        await CreateQcow2Async(vdb, "1G");
        await IoAsync(vda, "write -P 0x01 0 4M");
        await BackupAsync(BackupLevel.Auto, null, vda, vdb);
        await IoAsync(vda, "write -P 0x02 1M 64K");
        await IoAsync(vdb, "write -P 0x03 0 512M");
        var files = Directory.GetFiles(Dir).Order().Select(f => (f, Sha256(f))).ToList();
        var bitmapsA = await BitmapNamesAsync(vda);
        var bitmapsB = await BitmapNamesAsync(vdb);

        // The second disk's daemon dies mid-copy, after the first disk was exported.
        var progress = new CallbackProgress<DiskProgress>(p =>
        {
            if (p.Index == 1 && p.Export.BytesDone > 0)
            {
                foreach (var pid in _ws.DaemonProcesses())
                {
                    Signals.Send(pid, Signals.SIGKILL);
                }
            }
        });
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [vda, vdb], Target = Dir }, progress, cts.Token));

        Assert.Equal(ErrorKind.QemuFailure, error.Kind);
        Assert.StartsWith("qemu-storage-daemon was killed by signal 9", error.Message, StringComparison.Ordinal);

        Assert.Equal(files, Directory.GetFiles(Dir).Order().Select(f => (f, Sha256(f))).ToList());
        Assert.Equal(bitmapsA, await BitmapNamesAsync(vda));
        Assert.Equal(bitmapsB, await BitmapNamesAsync(vdb));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Differential_is_backed_by_the_full_point_and_holds_the_union_since_it()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "64M");
        await IoAsync(vda, "write -P 0x10 0 8M");
        await BackupAsync(images: vda);
        await IoAsync(vda, "write -P 0x20 16M 64K");
        await BackupAsync(images: vda);
        await IoAsync(vda, "write -P 0x30 32M 64K");

        var run = await BackupAsync(BackupLevel.Diff, null, vda);

        var point = run.Disks[0].Point!;
        Assert.Equal(PointLevel.Diff, point.Level);
        Assert.Equal(0, point.BackingPoint);
        Assert.Equal("vda.0.full.qcow2", (await InfoAsync(Path.Combine(Dir, point.File))).GetProperty("backing-filename").GetString());
        Assert.Equal(128L << 10, await TopLayerDataBytesAsync(Path.Combine(Dir, point.File)));
        Assert.Equal(0, await CompareAsync(Path.Combine(Dir, point.File), vda));
    }

    [Fact]
    public async Task Incremental_without_a_chain_is_refused_and_changes_nothing()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "16M");

        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [vda], Target = Dir, Level = BackupLevel.Inc }, null, cts.Token));

        Assert.Contains("vda: cannot make an incremental point: the backup folder has no point for this disk yet", error.Message, StringComparison.Ordinal);
        Assert.Empty(await BitmapNamesAsync(vda));
        Assert.False(File.Exists(Path.Combine(Dir, ManifestStore.FileName)));
    }

    [Fact]
    public async Task Two_disks_with_the_same_name_are_refused()
    {
        var a = Directory.CreateDirectory(_ws["a"]).FullName;
        var b = Directory.CreateDirectory(_ws["b"]).FullName;
        await CreateQcow2Async(Path.Combine(a, "vda.qcow2"), "8M");
        await CreateQcow2Async(Path.Combine(b, "vda.qcow2"), "8M");

        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [Path.Combine(a, "vda.qcow2"), Path.Combine(b, "vda.qcow2")], Target = Dir }, null, cts.Token));

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Contains("two disks are named 'vda'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keep_checkpoints_removes_only_this_folders_old_checkpoints()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "16M");
        await AddBitmapAsync(vda, "libvirt-chk-1");
        var points = new List<PointRecord>();
        for (var i = 0; i < 4; i++)
        {
            await IoAsync(vda, $"write -P 0x{i + 1:x2} {i}M 64K");
            points.Add((await BackupAsync(BackupLevel.Auto, 2, vda)).Disks[0].Point!);
        }

        var names = (await BitmapNamesAsync(vda)).Select(n => n.Split(':')[0]).ToList();
        // Kept: libvirt's, the chain's first (for diff), the newest two.
        Assert.Equal(new[] { "libvirt-chk-1", points[0].CheckpointCreated!, points[2].CheckpointCreated!, points[3].CheckpointCreated! }.Order(), names.Order());
        var after = await BackupAsync(images: vda);
        Assert.Equal(PointLevel.Inc, after.Disks[0].Point!.Level);
    }

    [Fact]
    public async Task Auto_falls_back_to_full_when_the_checkpoint_was_lost()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "16M");
        var first = await BackupAsync(images: vda);
        await ImgAsync("bitmap", "--remove", vda, first.Disks[0].Point!.CheckpointCreated!);

        var run = await BackupAsync(images: vda);

        Assert.Equal(PointLevel.Full, run.Disks[0].Point!.Level);
        Assert.Contains("not found", run.Disks[0].Plan.Reason, StringComparison.Ordinal);
        Assert.Equal(0, await CompareAsync(Path.Combine(Dir, run.Disks[0].Point!.File), vda));
    }
}
