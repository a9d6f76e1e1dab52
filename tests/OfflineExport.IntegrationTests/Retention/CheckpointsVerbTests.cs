using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Retention;

/// <summary>checkpoints DIR [--remove-all] on real disks: whose each checkpoint is, and a retired folder's removed from every layer.</summary>
public sealed class CheckpointsVerbTests : IDisposable
{
    private const string OtherFolder = "offline-export-0badc0de-20261101T000000Z";
    private const string Libvirt = "ck-libvirt";

    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    /// <summary>Three points, then an external snapshot (overlay) with a fourth; a leftover of ours, another folder's and libvirt's in the base.</summary>
    private async Task<(RetentionFolder Folder, string Overlay, string Leftover)> FolderWithLayersAsync()
    {
        var folder = await RetentionFolder.CreateAsync(_ws, 3);
        var leftover = $"offline-export-{ManifestStore.Load(folder.Folder).Folder!.Tag}-20261101T000000Z";
        foreach (var name in new[] { leftover, OtherFolder, Libvirt })
        {
            await AddBitmapAsync(folder.Image, name);
        }

        var overlay = _ws["vda.snap1.qcow2"];
        await CreateOverlayAsync(overlay, folder.Image);
        await BackupOverlayAsync(folder, overlay);
        return (folder, overlay, leftover);
    }

    /// <summary>A backup of the overlay as disk vda (as a domain names it by its target, whatever the file).</summary>
    private async Task BackupOverlayAsync(RetentionFolder folder, string overlay)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [overlay], Names = ["vda"], Target = folder.Folder }, null, cts.Token);
    }

    [Fact]
    public async Task A_copied_folder_never_takes_the_originals_checkpoints_for_its_own()
    {
        var folder = await RetentionFolder.CreateAsync(_ws, 3);
        var copy = _ws["backups-copy"];
        await RunProgramAsync("cp", "-a", folder.Folder, copy);
        await IoAsync(folder.Image, "write -P 0x77 0 64K");
        using (var cts = new CancellationTokenSource(ExportHarness.Deadline))
        {
            await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [folder.Image], Target = folder.Folder }, null, cts.Token);
        }

        var originals = await BitmapNamesAsync(folder.Image);
        var forget = await CliProcess.RunAsync(_ws, "forget", copy, "--keep-last", "5");
        var retire = await CliProcess.RunAsync(_ws, "checkpoints", copy, "--remove-all");

        Assert.True(forget.ExitCode == 0, forget.Stderr);
        Assert.Contains("is a copy of another", forget.Stderr, StringComparison.Ordinal);
        Assert.True(retire.ExitCode == 0, retire.Stderr);
        Assert.Contains("removed 0 checkpoint(s)", retire.Stdout, StringComparison.Ordinal);
        Assert.Equal(originals, await BitmapNamesAsync(folder.Image));
    }

    [Fact]
    public async Task Checkpoints_tells_whose_each_is_in_every_layer()
    {
        var (folder, overlay, leftover) = await FolderWithLayersAsync();
        var disk = folder.Disk;

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "checkpoints", folder.Folder, "--json");
        var text = await CliProcess.RunAsync(_ws, "checkpoints", folder.Folder);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var entries = json.RootElement.GetProperty("disks")[0].GetProperty("checkpoints").EnumerateArray()
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => (Owner: e.GetProperty("owner").GetString(), Layer: e.GetProperty("layer").GetString(), Current: e.GetProperty("current").GetBoolean()));
        Assert.Equal(("thisFolder", overlay, true), entries[disk.CurrentCheckpoint!]);
        Assert.Equal(("thisFolder", folder.Image, false), entries[disk.Point(0)!.CheckpointCreated!]);
        Assert.Equal(("thisFolder", folder.Image, false), entries[leftover]);
        Assert.Equal(("otherFolder", folder.Image, false), entries[OtherFolder]);
        Assert.Equal(("foreign", folder.Image, false), entries[Libvirt]);
        Assert.Contains($"{leftover}: this folder's, recorded by no point: left by a crashed run [in {folder.Image}]", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{disk.CurrentCheckpoint}: this folder's, current: the next incremental starts from it", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remove_all_takes_this_folders_from_every_layer_leaves_the_others_and_the_next_backup_is_full()
    {
        var (folder, overlay, _) = await FolderWithLayersAsync();
        var points = folder.Disk.Points.Count;

        // Refused while a VM holds the disk: nothing is removed, and the warning says why.
        List<string> whileInUse;
        await using (await ImageFaults.HoldReadWriteAsync(overlay))
        {
            var busy = await CliProcess.RunAsync(_ws, "checkpoints", folder.Folder, "--remove-all");
            Assert.Equal(0, busy.ExitCode);
            Assert.Contains("could not all be removed", busy.Stderr, StringComparison.Ordinal);
            whileInUse = [.. await BitmapNamesAsync(overlay), .. await BitmapNamesAsync(folder.Image)];
        }

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "checkpoints", folder.Folder, "--remove-all");
        await IoAsync(overlay, "write -P 0x66 0 64K");
        await BackupOverlayAsync(folder, overlay);

        Assert.Equal(7, whileInUse.Count);
        Assert.True(code == 0, stderr);
        Assert.Contains("removed 5 checkpoint(s)", stdout, StringComparison.Ordinal);
        Assert.Equal([Libvirt, OtherFolder], (await BitmapNamesAsync(folder.Image)).Order());
        Assert.Equal(PointLevel.Full, folder.Disk.Latest!.Level);
        Assert.Equal(points + 1, folder.Disk.Points.Count);
    }
}
