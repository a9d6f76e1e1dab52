using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Retention;

/// <summary>forget on real qemu (issue 13): restic's rules, merges that keep every kept point exact, checkpoints removed from every layer.</summary>
public sealed class ForgetTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task A_month_of_nightly_backups_forgets_by_day_week_and_month_and_every_kept_point_restores_as_before()
    {
        // 30 nights from Sunday 1 November; full points on nights 0 and 10.
        var month = await RetentionFolder.CreateAsync(_ws, 30, fullAt: [0, 10]);
        await month.AssertEveryPointReadsAsItsNightAsync();
        var before = month.Disk;

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "forget", month.Folder, "--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "3");

        Assert.True(code == 0, stderr);
        var after = month.Disk;
        // Nights 0-29 are 1-30 November. Daily: 23-29 (24-30 Nov); weekly, the newest of ISO weeks 49 (29),
        // 48 (28), 47 (21), 46 (14); monthly: November (29).
        int[] kept = [14, 21, 23, 24, 25, 26, 27, 28, 29];
        Assert.Equal(kept, after.Points.Select(p => p.Number));
        Assert.Equal(kept.Select(n => before.Point(n)!.File), after.Points.Select(p => p.File));
        await month.AssertEveryPointReadsAsItsNightAsync();
        Assert.Empty(month.StrayFiles());
        // 0-9 go whole (10 is full); 14 stood on 10-13 and becomes full; 21 now stands on 14, 23 on 21.
        Assert.Equal([null, 14, 21, 23, 24, 25, 26, 27, 28], after.Points.Select(p => p.BackingPoint));
        Assert.Equal(PointLevel.Full, after.Point(14)!.Level);
        Assert.Contains("vda: kept 14 (weekly), 21 (weekly), 23 (daily), 24 (daily)", stdout, StringComparison.Ordinal);
        Assert.Contains("29 (daily, weekly, monthly); forgot 0-13, 15-20, 22", stdout, StringComparison.Ordinal);
        Assert.Contains("point 14 takes in 10-13 (now a full point)", stdout, StringComparison.Ordinal);
        Assert.Contains("point 21 takes in 15-20 (now on point 14)", stdout, StringComparison.Ordinal);
        // The forgotten points' checkpoints left the disk; the kept points' (and the current one) stayed.
        Assert.Equal(after.Points.Select(p => p.CheckpointCreated!).Order(), (await BitmapNamesAsync(month.Image)).Order());
        var check = await CliProcess.RunAsync(_ws, "check", month.Folder, "--read-data");
        Assert.True(check.ExitCode == 0, check.Stdout);

        // The next night builds on the kept newest point, and the restored copies are the guest's disk.
        await IoAsync(month.Image, "write -P 0xee 40M 1M");
        var next = await CliProcess.RunAsync(_ws, "backup", month.Image, "--target", month.Folder, "--json");
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.True(month.Disk.Latest!.BackingPoint == 29, next.Stdout);
        foreach (var number in new[] { 14, 21, 30 })
        {
            var restored = _ws[$"r{number}.qcow2"];
            var restore = await CliProcess.RunAsync(_ws, "restore", month.Folder, restored, "--point", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(restore.ExitCode == 0, restore.Stderr);
            Assert.Equal(number == 30 ? await GuestSha256Async(month.Image) : month.Guest[number], await GuestSha256Async(restored));
        }

        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Each_rule_keeps_what_restic_would_and_a_dry_run_changes_nothing()
    {
        var folder = await RetentionFolder.CreateAsync(_ws, 20);
        var manifest = File.ReadAllBytes(Path.Combine(folder.Folder, ManifestStore.FileName));
        var files = Directory.EnumerateFiles(folder.Folder).Order().Select(Sha256).ToList();

        async Task<int[]> KeptAsync(params string[] rules)
        {
            var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, ["forget", folder.Folder, "--dry-run", "--json", .. rules]);
            Assert.True(code == 0, stderr);
            using var json = JsonDocument.Parse(stdout);
            Assert.True(json.RootElement.GetProperty("dryRun").GetBoolean());
            return json.RootElement.GetProperty("disks")[0].GetProperty("kept").EnumerateArray().Select(k => k.GetProperty("point").GetInt32()).ToArray();
        }

        Assert.Equal(new[] { 17, 18, 19 }, await KeptAsync("--keep-last", "3"));
        Assert.Equal(new[] { 16, 17, 18, 19 }, await KeptAsync("--keep-daily", "4"));
        // Nights 0-19 are 1-20 November: ISO weeks 44 (1), 45 (2-8), 46 (9-15), 47 (16-20).
        Assert.Equal(new[] { 7, 14, 19 }, await KeptAsync("--keep-weekly", "3"));
        Assert.Equal(new[] { 0, 7, 14, 19 }, await KeptAsync("--keep-weekly", "10"));
        Assert.Equal(new[] { 19 }, await KeptAsync("--keep-monthly", "6"));
        Assert.Equal(new[] { 19 }, await KeptAsync("--keep-yearly", "2"));
        Assert.Equal(new[] { 7, 14, 18, 19 }, await KeptAsync("--keep-last", "2", "--keep-weekly", "3"));
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(folder.Folder, ManifestStore.FileName)));
        Assert.Equal(files, Directory.EnumerateFiles(folder.Folder).Order().Select(Sha256));
    }

    [Fact]
    public async Task Forget_without_a_rule_or_with_zero_is_a_usage_error()
    {
        var folder = await RetentionFolder.CreateAsync(_ws, 2);

        var none = await CliProcess.RunAsync(_ws, "forget", folder.Folder);
        var zero = await CliProcess.RunAsync(_ws, "forget", folder.Folder, "--keep-last", "0");

        Assert.Equal(2, none.ExitCode);
        Assert.Contains("forget needs at least one rule", none.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, zero.ExitCode);
        Assert.Equal(2, folder.Disk.Points.Count);
    }

    [Fact]
    public async Task A_damaged_point_a_kept_one_would_take_in_stops_forget_before_anything_changes()
    {
        var folder = await RetentionFolder.CreateAsync(_ws, 5);
        var file = Path.Combine(folder.Folder, folder.Disk.Point(2)!.File);
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = stream.Length - 1;
            stream.WriteByte(0x5a);
        }

        var manifest = File.ReadAllBytes(Path.Combine(folder.Folder, ManifestStore.FileName));
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "forget", folder.Folder, "--keep-last", "2");

        Assert.Equal(11, code);
        Assert.Contains("cannot forget: kept point 3 of vda would take in point 2 (vda.2.inc.qcow2), which is damaged: its SHA-256 is", stderr, StringComparison.Ordinal);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(folder.Folder, ManifestStore.FileName)));
        Assert.Empty(folder.StrayFiles());
    }

    [Fact]
    public async Task A_kept_point_whose_header_still_names_a_point_to_forget_stops_forget_before_anything_changes()
    {
        // The manifest (edited, or written by a buggy tool) calls point 1 full; its header still stands on point 0.
        var folder = await RetentionFolder.CreateAsync(_ws, 2);
        var manifestPath = Path.Combine(folder.Folder, ManifestStore.FileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifestPath))!;
        json["disks"]![0]!["points"]![1]!["backingPoint"] = null;
        File.WriteAllText(manifestPath, json.ToJsonString());
        var manifest = File.ReadAllBytes(manifestPath);
        var first = Path.Combine(folder.Folder, folder.Disk.Point(0)!.File);
        var firstSum = Sha256(first);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "forget", folder.Folder, "--keep-last", "1");

        Assert.Equal(11, code);
        Assert.Contains("cannot forget: kept point 1 of vda is damaged: it is a full point, but its header names backing file 'vda.0.full.qcow2'; nothing was changed", stderr, StringComparison.Ordinal);
        Assert.Equal(firstSum, Sha256(first));
        Assert.Equal(manifest, File.ReadAllBytes(manifestPath));
        Assert.Empty(folder.StrayFiles());
    }

    [Fact]
    public async Task Checkpoints_are_removed_from_every_layer_with_crashed_runs_leftovers_and_others_are_left_alone()
    {
        var folder = await RetentionFolder.CreateAsync(_ws, 3);
        var tag = ManifestStore.Load(folder.Folder).Folder!.Tag;
        var leftover = $"offline-export-{tag}-20261101T000000Z"; // as a run whose record was lost would leave it
        const string otherFolder = "offline-export-0badc0de-20261101T000000Z";
        const string libvirt = "ck-libvirt";
        foreach (var name in new[] { leftover, otherFolder, libvirt })
        {
            await AddBitmapAsync(folder.Image, name);
        }

        // An external snapshot: a new top layer; the older checkpoints stay in the layer below.
        var overlay = _ws["vda.snap1.qcow2"];
        await CreateOverlayAsync(overlay, folder.Image);
        await IoAsync(overlay, "write -P 0x77 0 1M");
        using (var cts = new CancellationTokenSource(ExportHarness.Deadline))
        {
            await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [overlay], Names = ["vda"], Target = folder.Folder }, null, cts.Token);
        }

        // The overlay's own checkpoint was left in use, as a crashed VM leaves it.
        await ImageFaults.LeaveBitmapsInUseAsync(overlay);
        var latest = folder.Disk.Latest!;

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "forget", folder.Folder, "--keep-last", "1");

        Assert.True(code == 0, stderr);
        Assert.Equal([latest.Number], folder.Disk.Points.Select(p => p.Number));
        Assert.Equal([latest.CheckpointCreated!], await BitmapNamesAsync(overlay));
        Assert.Equal([libvirt, otherFolder], (await BitmapNamesAsync(folder.Image)).Order());
        Assert.Contains($"removed checkpoint vda: {leftover} (in {folder.Image})", stdout, StringComparison.Ordinal);
    }
}
