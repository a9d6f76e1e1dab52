using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// A point belongs to the disk it came from (issue #10, "Trust"): another image at the same path — a
/// clone carrying the same checkpoints — starts a new full chain instead of an incremental on the old
/// one; an external snapshot on top of the recorded file is still the same disk.
/// </summary>
public sealed class DiskIdentityTests : IDisposable
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

    private async Task<string> GuestViewAsync(string image, string name)
    {
        var copy = _ws[name];
        await ImgAsync("convert", "-O", "qcow2", image, copy);
        return copy;
    }

    /// <summary>Replaces <paramref name="vda"/> by a copy of itself (new inode, same checkpoints) with other data written into it.</summary>
    private async Task ReplaceByCloneAsync(string vda, byte pattern)
    {
        var clone = _ws[$"clone-{pattern:x2}.qcow2"];
        File.Copy(vda, clone);
        await IoAsync(clone, $"write -P 0x{pattern:x2} 0 2M");
        // Renamed over the original while both exist: the clone's inode cannot be the original's.
        File.Move(clone, vda, overwrite: true);
    }

    [Fact]
    public async Task Replaced_disk_with_the_same_checkpoints_gets_a_full_point_and_each_point_restores_its_own_disk()
    {
        // Arrange
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x10 0 4M", "write -P 0x11 8M 1M");
        var original = await GuestViewAsync(vda, "original.qcow2");
        var first = await BackupAsync(vda);
        await ReplaceByCloneAsync(vda, 0x77);
        var replaced = await GuestViewAsync(vda, "replaced.qcow2");

        // Act
        var second = await BackupAsync(vda);

        // Assert
        var plan = second.Disks[0].Plan;
        Assert.Equal(PointLevel.Full, plan.Level);
        Assert.Contains("is not the disk point 0 was taken of", plan.Reason, StringComparison.Ordinal);
        Assert.Contains(second.Warnings, w => w.StartsWith("vda: new full point: ", StringComparison.Ordinal));
        Assert.Equal(PointLevel.Full, first.Disks[0].Point!.Level);
        Assert.Equal(0, await CompareAsync(await RestoreAsync(0), original));
        Assert.Equal(0, await CompareAsync(await RestoreAsync(1), replaced));
        Assert.NotEqual(0, await CompareAsync(original, replaced));
        var points = ManifestStore.LoadExisting(Folder).Disk("vda")!.Points;
        Assert.All(points, p => Assert.NotNull(p.Disk));
        Assert.NotEqual(points[0].Disk!.Inode, points[1].Disk!.Inode);
        Assert.Equal(vda, points[1].Disk!.Path);
        Assert.Equal("qcow2", points[1].Disk!.Format);
        Assert.Equal(32L << 20, points[1].Disk!.VirtualSize);
    }

    [Fact]
    public async Task Replaced_disk_refuses_level_inc_with_exit_4_and_auto_says_why_in_json()
    {
        // Arrange
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "16M");
        await IoAsync(vda, "write -P 0x10 0 1M");
        var (firstCode, _, firstError) = await CliProcess.RunAsync(_ws, "backup", vda, "--target", Folder);
        Assert.True(firstCode == 0, firstError);
        await ReplaceByCloneAsync(vda, 0x42);
        var before = Sha256(vda);

        // Act
        var (incCode, _, incError) = await CliProcess.RunAsync(_ws, "backup", vda, "--target", Folder, "--level", "inc");
        var after = Sha256(vda);
        var (autoCode, autoOut, autoError) = await CliProcess.RunAsync(_ws, "backup", vda, "--target", Folder, "--json");

        // Assert
        Assert.Equal(4, incCode);
        Assert.Contains("vda: cannot make an incremental point: ", incError, StringComparison.Ordinal);
        Assert.Contains("is not the disk point 0 was taken of", incError, StringComparison.Ordinal);
        Assert.Equal(before, after); // the refusal added no checkpoint
        Assert.True(autoCode == 0, autoError);
        using var json = JsonDocument.Parse(autoOut);
        var disk = json.RootElement.GetProperty("disks")[0];
        Assert.Equal("full", disk.GetProperty("level").GetString());
        Assert.Contains("is not the disk point 0 was taken of", disk.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains(json.RootElement.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("a replaced or cloned image starts a new chain", StringComparison.Ordinal));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task External_snapshot_on_top_of_the_recorded_disk_is_the_same_disk()
    {
        // Arrange: point 0 of base/vda.qcow2, then an overlay snap/vda.qcow2 on it carrying the checkpoint (as libvirt does).
        Directory.CreateDirectory(_ws["base"]);
        Directory.CreateDirectory(_ws["snap"]);
        var baseImage = _ws["base/vda.qcow2"];
        var top = _ws["snap/vda.qcow2"];
        await CreateQcow2Async(baseImage, "32M");
        await IoAsync(baseImage, "write -P 0x10 0 4M");
        var first = await BackupAsync(baseImage);
        var checkpoint = first.Disks[0].Point!.CheckpointCreated!;
        await IoAsync(baseImage, "write -P 0x20 1M 64K");
        await CreateOverlayAsync(top, baseImage);
        await AddBitmapAsync(top, checkpoint);
        await IoAsync(top, "write -P 0x30 6M 128K");

        // Act
        var second = await BackupAsync(top);

        // Assert
        var point = second.Disks[0].Point!;
        Assert.Equal(PointLevel.Inc, point.Level);
        Assert.Equal([checkpoint], point.CheckpointsUsed);
        Assert.Empty(second.Warnings);
        Assert.Equal(0, await CompareAsync(await RestoreAsync(1), top));
        Assert.Equal(top, point.Disk!.Path);
    }
}
