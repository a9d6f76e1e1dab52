using System.Text.Json;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Cli;

/// <summary>backup, list, restore and verify as users run them.</summary>
public sealed class WorkflowCliTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Backup_list_restore_and_verify_work_together()
    {
        var vda = _ws["vda.qcow2"];
        var dir = _ws["bk"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x01 0 2M");

        var first = await CliProcess.RunAsync(_ws, "backup", vda, "--target", dir, "--verify", "--quiet");
        await IoAsync(vda, "write -P 0x02 4M 64K");
        var second = await CliProcess.RunAsync(_ws, "backup", vda, "--target", dir);
        var table = await CliProcess.RunAsync(_ws, "list", dir);
        var json = await CliProcess.RunAsync(_ws, "list", dir, "--json");
        var restore = await CliProcess.RunAsync(_ws, "restore", dir, _ws["restored.qcow2"], "--point", "0");
        var same = await CliProcess.RunAsync(_ws, "verify", vda, Path.Combine(dir, "vda.1.inc.qcow2"));
        var differs = await CliProcess.RunAsync(_ws, "verify", vda, _ws["restored.qcow2"]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(string.Empty, first.Stdout); // --quiet: a run that works prints nothing (cron mails only failures)
        Assert.Equal(string.Empty, first.Stderr);
        Assert.Equal(0, second.ExitCode);
        Assert.StartsWith("vda: made point 1 (inc: changes since point 0) -> vda.1.inc.qcow2: 64.0 KiB copied", second.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(table.Stdout.Split('\n'), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1", "inc", "point", "0", "64.0", "KiB", ..]);
        var points = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("disks")[0].GetProperty("points");
        Assert.Equal(["full", "inc"], points.EnumerateArray().Select(p => p.GetProperty("level").GetString()));
        Assert.Equal(0, restore.ExitCode);
        Assert.Contains("restored vda point 0", restore.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, same.ExitCode);
        Assert.StartsWith("identical", same.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, differs.ExitCode);
        Assert.StartsWith("different", differs.Stdout, StringComparison.Ordinal);
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task List_of_a_folder_that_is_not_a_backup_folder_exits_9()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "list", _ws.Root);

        Assert.Equal(9, code);
        Assert.Equal($"offline-export: error: {_ws.Root} is not a backup folder (no manifest.json)", stderr.Trim());
    }

    [Fact]
    public async Task List_of_a_missing_folder_says_it_does_not_exist_and_of_a_file_that_it_is_a_file()
    {
        var file = _ws["some.qcow2"];
        await File.WriteAllTextAsync(file, "x");

        var missing = await CliProcess.RunAsync(_ws, "list", _ws["no-such-folder"]);
        var notFolder = await CliProcess.RunAsync(_ws, "list", file);

        Assert.Equal(9, missing.ExitCode);
        Assert.Equal($"offline-export: error: backup folder {_ws["no-such-folder"]} does not exist", missing.Stderr.Trim());
        Assert.Equal(9, notFolder.ExitCode);
        Assert.Equal($"offline-export: error: {file} is a file, not a backup folder", notFolder.Stderr.Trim());
    }

    [Fact]
    public async Task A_folder_given_with_a_trailing_slash_is_the_same_folder()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "16M");
        var dir = _ws["slash"] + "/";

        var runs = new List<(int ExitCode, string Stdout, string Stderr)>();
        for (var i = 0; i < 3; i++)
        {
            await IoAsync(vda, $"write -P {i + 1} {i}M 64K");
            runs.Add(await CliProcess.RunAsync(_ws, "backup", vda, "--target", dir, "--format", "qcow2"));
        }

        var check = await CliProcess.RunAsync(_ws, "check", dir);

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        Assert.StartsWith("vda: made point 2 (inc: changes since point 1)", runs[2].Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", string.Concat(runs.Select(r => r.Stderr)), StringComparison.Ordinal);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
    }

    [Fact]
    public async Task List_reads_well_at_80_columns_and_when_piped()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "32M");
        var dir = _ws["bk80"];
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "backup", vda, "--target", dir, "--quiet")).ExitCode);
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "backup", vda, "--target", dir, "--quiet", "--verify")).ExitCode);

        var table = await CliProcess.RunAsync(_ws, "list", dir);

        Assert.Equal(0, table.ExitCode);
        var lines = table.Stdout.Split('\n');
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, $"'{l}' is wider than 80 columns"));
        Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1", "inc", "point", "0", _, "B", _, _, "verified"]);
        Assert.DoesNotContain("offline-export-", table.Stdout, StringComparison.Ordinal); // no full checkpoint names without --verbose
    }

    [Fact]
    public async Task Restore_of_a_point_that_does_not_exist_names_the_points_there_are()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "8M");
        await CliProcess.RunAsync(_ws, "backup", vda, "--target", _ws["bk"], "--quiet");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], _ws["out.qcow2"], "--point", "7");

        Assert.Equal(2, code);
        Assert.Contains("vda has no point 7", stderr, StringComparison.Ordinal);
        Assert.Contains("points: 0", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
    }
}
