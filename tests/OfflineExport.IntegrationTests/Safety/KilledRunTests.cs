using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Processes;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// SIGKILL of offline-export (as a power cut or the OOM killer would): no daemon survives it, and the
/// next run finds what it left (private folder, partial output, pending point, checkpoint), removes it
/// and says so.
/// </summary>
public sealed class KilledRunTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["backups"];

    private async Task<string> BigDiskAsync()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "2G");
        await IoAsync(image, "write -P 0x3c 0 1536M");
        return image;
    }

    private async Task KillAtFirstProgressAsync(params string[] args)
    {
        await using var cli = CliProcess.Start(_ws, args);
        await cli.FirstProgress.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.NotEmpty(_ws.DaemonProcesses());
        Signals.Send(cli.Id, Signals.SIGKILL);
        await cli.WaitAsync(TimeSpan.FromSeconds(10));
        await WaitUntilAsync(() => _ws.SurvivingQemuProcesses().Count == 0, TimeSpan.FromSeconds(10));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Killed_export_takes_its_daemon_along_and_the_next_export_removes_its_partial_and_folder()
    {
        var image = await BigDiskAsync();
        var before = Sha256(image);

        await KillAtFirstProgressAsync("export", image, _ws["full.qcow2"]);

        Assert.Empty(_ws.SurvivingQemuProcesses());
        var partial = Assert.Single(Directory.GetFiles(_ws.Root, "full.qcow2.*.partial"));
        Assert.Single(Directory.GetDirectories(_ws.WorkDirectory));
        Assert.False(File.Exists(_ws["full.qcow2"]));

        var small = _ws["small.qcow2"];
        await CreateQcow2Async(small, "16M");
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", small, _ws["small-out.qcow2"], "--format", "qcow2");

        Assert.True(code == 0, stderr);
        Assert.Contains("offline-export: note: cleaned up after a killed offline-export run (pid ", stderr, StringComparison.Ordinal);
        Assert.Contains($"its partial output {partial}", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(partial));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Killed_restore_leaves_a_partial_that_the_next_restore_removes_and_reports()
    {
        var image = await BigDiskAsync();
        var (backup, _, backupError) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2");
        Assert.True(backup == 0, backupError);

        await using (var cli = CliProcess.Start(_ws, ["restore", Folder, _ws["restored.qcow2"]]))
        {
            // "restoring N": the partial exists from here until the verified rename, a second or more later.
            await WaitUntilAsync(() => cli.StandardError.Contains("restoring ", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            Signals.Send(cli.Id, Signals.SIGKILL);
            await cli.WaitAsync(TimeSpan.FromSeconds(10));
        }

        await WaitUntilAsync(() => _ws.SurvivingQemuProcesses().Count == 0, TimeSpan.FromSeconds(10));
        var partial = Assert.Single(Directory.GetFiles(_ws.Root, "restored.qcow2.*.partial"));

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["again.qcow2"], "--json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var note = Assert.Single(json.RootElement.GetProperty("notes").EnumerateArray()).GetString()!;
        Assert.StartsWith("cleaned up after a killed offline-export run (pid ", note, StringComparison.Ordinal);
        Assert.Contains($"its partial output {partial}", note, StringComparison.Ordinal);
        Assert.False(File.Exists(partial));
        Assert.False(File.Exists(_ws["restored.qcow2"]));
        Assert.Equal(0, await CompareAsync(_ws["again.qcow2"], image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Killed_backup_is_cleaned_up_by_the_next_backup_which_then_succeeds()
    {
        var image = await BigDiskAsync();
        var first = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2");
        Assert.Equal(0, first.ExitCode);
        var recorded = await BitmapNamesAsync(image);
        Assert.Single(recorded);
        await IoAsync(image, "write -P 0x77 0 1G");

        await KillAtFirstProgressAsync("backup", image, "--target", Folder, "--format", "qcow2");

        // The killed run's checkpoint, record and pending files are there; nothing it did is in the manifest.
        var leftCheckpoint = Assert.Single((await BitmapNamesAsync(image)).Except(recorded));
        Assert.True(File.Exists(Path.Combine(Folder, BackupRunRecord.FileName)));
        Assert.NotEmpty(Directory.GetFiles(Folder, "*.pending*"));
        Assert.Single(ManifestStore.Load(Folder).Disks.Single().Points);

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2", "--json");

        Assert.True(code == 0, stderr);
        var notes = JsonDocument.Parse(stdout).RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
        // One note for the folder's record (checkpoint, pending point), one for the private work folder.
        var note = Assert.Single(notes, n => n.StartsWith("cleaned up after a killed offline-export run", StringComparison.Ordinal) && n.Contains("checkpoint", StringComparison.Ordinal));
        Assert.Single(notes, n => n.StartsWith("cleaned up after a killed offline-export run", StringComparison.Ordinal) && n.Contains("its work folder", StringComparison.Ordinal));
        Assert.Contains($"checkpoint {leftCheckpoint} of vda", note, StringComparison.Ordinal);
        Assert.Contains(".pending", note, StringComparison.Ordinal);
        // The leftover is gone (the new run may reuse its name within the same second): two checkpoints, both recorded.
        Assert.Equal(2, (await BitmapNamesAsync(image)).Count);
        Assert.Empty(Directory.GetFiles(Folder, "*.pending*"));
        Assert.False(File.Exists(Path.Combine(Folder, BackupRunRecord.FileName)));
        var manifest = ManifestStore.Load(Folder);
        Assert.Equal(2, manifest.Disks.Single().Points.Count);
        Assert.Equal(
            manifest.Disks.Single().Points.Select(p => p.CheckpointCreated).OfType<string>().Order(),
            (await BitmapNamesAsync(image)).Order());
        Assert.Equal(PointLevel.Inc, manifest.Disks.Single().Points[1].Level);
        var restore = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["restored.qcow2"]);
        Assert.Equal(0, restore.ExitCode);
        Assert.Equal(0, await CompareAsync(_ws["restored.qcow2"], image)); // a backup writes checkpoints into the image: its data is what must match
        _ws.AssertNothingLeftBehind();
        Assert.DoesNotContain("error", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreadable_run_record_is_refused_with_exit_9_and_touches_nothing()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2")).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(Folder, BackupRunRecord.FileName), "{ not json");
        var bitmaps = await BitmapNamesAsync(image);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2");

        Assert.Equal(9, code);
        Assert.Contains("the record of an earlier run's unfinished work", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal(bitmaps, await BitmapNamesAsync(image));
        Assert.Single(ManifestStore.Load(Folder).Disks.Single().Points);
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task A_run_record_removes_only_what_a_run_names_its_points()
    {
        // A record (edited, or from another tool version) naming the folder's own files: the next run removes the
        // point file it names and nothing else, manifest.json and the domain XML included.
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2")).ExitCode);
        var xml = Path.Combine(Folder, "domain.20261207T000000Z.xml");
        await File.WriteAllTextAsync(xml, "<domain/>");
        await File.WriteAllTextAsync(Path.Combine(Folder, "vda.1.inc.qcow2.pending"), "left by a killed run");
        new BackupRunRecord { Owner = new ProcessIdentity(int.MaxValue, 1), StartTime = DateTimeOffset.UtcNow }
            .WithFile("manifest.json").WithFile(Path.GetFileName(xml)).WithFile("vda.1.inc.qcow2.pending").Save(Folder);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2");

        Assert.True(code == 0, stderr);
        Assert.Contains("removed vda.1.inc.qcow2.pending", stderr, StringComparison.Ordinal);
        Assert.Equal(2, ManifestStore.Load(Folder).Disks.Single().Points.Count);
        Assert.True(File.Exists(xml));
        Assert.False(File.Exists(Path.Combine(Folder, "vda.1.inc.qcow2.pending")));
    }
}
