using System.Text.Json;
using OfflineExport.IntegrationTests.Support;
using CliWrap.Buffered;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Cli;

/// <summary>info, progress, --json, --dry-run, --help and --version as users see them.</summary>
public sealed class InterfaceTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private async Task<string> ImageWithCheckpointsAsync()
    {
        var base_ = _ws["base.qcow2"];
        var top = _ws["vda.qcow2"];
        await CreateQcow2Async(base_, "32M");
        await IoAsync(base_, "write -P 0x01 0 4M");
        await AddBitmapAsync(base_, "ok");
        await CreateOverlayAsync(top, base_);
        await AddBitmapAsync(top, "ok");
        await AddBitmapAsync(top, "stopped");
        await ImgAsync("bitmap", "--disable", top, "stopped");
        await IoAsync(top, "write -P 0x02 8M 1M");
        return top;
    }

    [Fact]
    public async Task Info_json_lists_layers_bitmaps_and_a_verdict_per_checkpoint()
    {
        var top = await ImageWithCheckpointsAsync();

        var (code, stdout, _) = await CliProcess.RunAsync(_ws, "info", top, "--json");

        Assert.Equal(0, code);
        var json = JsonDocument.Parse(stdout).RootElement;
        var layers = json.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal([top, _ws["base.qcow2"]], layers.Select(l => l.GetProperty("filename").GetString()));
        Assert.All(layers, l => Assert.Equal("qcow2", l.GetProperty("format").GetString()));
        Assert.Equal(32L << 20, layers[0].GetProperty("virtualSize").GetInt64());
        var topBitmaps = layers[0].GetProperty("bitmaps").EnumerateArray().ToList();
        Assert.Equal(["ok", "stopped"], topBitmaps.Select(b => b.GetProperty("name").GetString()).Order());
        Assert.Equal(65536, topBitmaps[0].GetProperty("granularity").GetInt64());
        var verdicts = json.GetProperty("bitmaps").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!);
        Assert.True(verdicts["ok"].GetProperty("valid").GetBoolean());
        Assert.False(verdicts["stopped"].GetProperty("valid").GetBoolean());
        Assert.Contains("is disabled", verdicts["stopped"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(json.GetProperty("inUse").GetBoolean());
    }

    [Fact]
    public async Task Info_table_shows_the_chain_and_why_a_checkpoint_cannot_be_used()
    {
        var top = await ImageWithCheckpointsAsync();

        var (code, stdout, _) = await CliProcess.RunAsync(_ws, "info", top);

        Assert.Equal(0, code);
        var lines = stdout.Split('\n');
        Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1", var file, "qcow2", "32.0", "MiB", _, _, "1"] && file == _ws["base.qcow2"]);
        Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["ok", "yes", "top,", "1"]);
        Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["stopped", "no", "(1)", "top"]);
        // The reason is told once, under the table.
        Assert.Single(lines, l => l.StartsWith("(1) bitmap 'stopped' in ", StringComparison.Ordinal) && l.Contains("is disabled (no 'auto' flag)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Info_says_when_a_running_process_holds_the_image()
    {
        var top = await ImageWithCheckpointsAsync();
        await using var vm = await ImageFaults.HoldReadWriteAsync(top);

        var (code, stdout, _) = await CliProcess.RunAsync(_ws, "info", top, "--json");

        Assert.Equal(0, code);
        Assert.True(JsonDocument.Parse(stdout).RootElement.GetProperty("inUse").GetBoolean());
    }

    [Fact]
    public async Task Progress_redraws_in_place_on_a_terminal_and_logs_plain_lines_otherwise()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x01 0 16M");

        var plain = await CliProcess.RunAsync(_ws, "export", image, _ws["plain.qcow2"]);
        var quiet = await CliProcess.RunAsync(_ws, "export", image, _ws["quiet.qcow2"], "--quiet");
        // script(1) gives the program a pseudo-terminal, as an operator's shell would.
        var line = $"stty cols 70; TMPDIR={_ws.WorkDirectory} {CliProcess.Program} export {image} {_ws["tty.qcow2"]}";
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var tty = await CliWrap.Cli.Wrap("script").WithArguments(["-qec", line, "/dev/null"]).ExecuteBufferedAsync(cts.Token);

        Assert.Equal(0, plain.ExitCode);
        Assert.DoesNotContain('\r', plain.Stderr);
        Assert.StartsWith("vda.qcow2 copying 16.0 MiB (16777216 bytes)", plain.Stderr, StringComparison.Ordinal);
        Assert.Contains("vda.qcow2 copied 16.0 MiB in ", plain.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, quiet.Stderr);
        Assert.Equal(string.Empty, quiet.Stdout);
        Assert.Contains("\rvda.qcow2 [", tty.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("100%  16.0 MiB / 16.0 MiB", tty.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(" left", tty.StandardOutput, StringComparison.Ordinal);
        // The terminal's 70 columns, read from the pseudo-terminal itself: no frame wraps.
        var frames = tty.StandardOutput.Split('\r', '\n').Select(f => f.Replace("\x1b[K", string.Empty, StringComparison.Ordinal)).Where(f => f.StartsWith("vda.qcow2 [", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(frames);
        Assert.All(frames, f => Assert.True(f.Length < 70, $"'{f}' ({f.Length}) wraps at 70 columns"));
        // The result line takes the bar's place.
        Assert.Contains("\r\x1b[Kfull export of ", tty.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, await CompareAsync(_ws["tty.qcow2"], image));
    }

    [Fact]
    public async Task Every_long_step_shows_its_progress_in_a_log_restore_verify_check_and_forget()
    {
        var image = _ws["vda.qcow2"];
        var dir = _ws["steps"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x01 0 8M");
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "backup", image, "--target", dir, "--quiet")).ExitCode);
        await IoAsync(image, "write -P 0x02 16M 1M");

        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", dir, "--verify");
        var restore = await CliProcess.RunAsync(_ws, "restore", dir, _ws["restored.qcow2"]);
        var verify = await CliProcess.RunAsync(_ws, "verify", image, _ws["restored.qcow2"]);
        var check = await CliProcess.RunAsync(_ws, "check", dir, "--read-data");
        var forget = await CliProcess.RunAsync(_ws, "forget", dir, "--keep-last", "1");

        Assert.Equal(0, backup.ExitCode);
        Assert.Contains("vda verified 64.0 MiB in ", backup.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, restore.ExitCode);
        Assert.Contains("restored 64.0 MiB in ", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("verified 64.0 MiB in ", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("restored.qcow2 verified 64.0 MiB in ", verify.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("identical: Images are identical.", verify.Stdout, StringComparison.Ordinal); // no progress left in the verdict
        Assert.Equal(0, check.ExitCode);
        Assert.Matches(@"(?m)^reading [\d.]+ MiB \(\d+ bytes\)$", check.Stderr);
        Assert.Matches(@"(?m)^read [\d.]+ MiB in ", check.Stderr);
        Assert.True(forget.ExitCode == 0, forget.Stderr);
        Assert.Contains("vda point 1 merged 64.0 MiB in ", forget.Stderr, StringComparison.Ordinal);
        Assert.Contains("vda point 1 verified 64.0 MiB in ", forget.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await CompareAsync(_ws["restored.qcow2"], image));
    }

    [Fact]
    public async Task Json_on_export_and_restore_prints_one_object_with_the_result()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "32M");
        await IoAsync(image, "write -P 0x01 0 3M");

        var export = await CliProcess.RunAsync(_ws, "export", image, _ws["full.qcow2"], "--verify", "--json");
        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", _ws["bk"], "--json");
        var restore = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], _ws["r.qcow2"], "--json");
        var verify = await CliProcess.RunAsync(_ws, "verify", image, _ws["r.qcow2"], "--json");

        var e = JsonDocument.Parse(export.Stdout).RootElement;
        Assert.Equal(_ws["full.qcow2"], e.GetProperty("output").GetString());
        Assert.Equal(3L << 20, e.GetProperty("bytesCopied").GetInt64());
        Assert.Equal(0, e.GetProperty("bytesZeroed").GetInt64());
        Assert.True(e.GetProperty("verified").GetBoolean());
        Assert.True(e.GetProperty("durationSeconds").GetDouble() > 0);
        Assert.Equal("full", e.GetProperty("mode").GetString());
        var b = JsonDocument.Parse(backup.Stdout).RootElement.GetProperty("disks")[0];
        Assert.Equal("vda", b.GetProperty("disk").GetString());
        Assert.Equal("full", b.GetProperty("level").GetString());
        Assert.Equal(3L << 20, b.GetProperty("bytesCopied").GetInt64());
        var r = JsonDocument.Parse(restore.Stdout).RootElement;
        Assert.Equal(_ws["r.qcow2"], r.GetProperty("output").GetString());
        Assert.True(r.GetProperty("verified").GetBoolean());
        Assert.True(JsonDocument.Parse(verify.Stdout).RootElement.GetProperty("identical").GetBoolean());
        Assert.Equal([0, 0, 0, 0], new[] { export.ExitCode, backup.ExitCode, restore.ExitCode, verify.ExitCode });
    }

    [Fact]
    public async Task Json_errors_keep_the_exit_code()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        await AddBitmapAsync(image, "ck");
        await CreateQcow2Async(_ws["prev.qcow2"], "8M");

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["inc.qcow2"], "--bitmap", "nope", "--backing", _ws["prev.qcow2"], "--json");

        Assert.Equal(4, code);
        var error = JsonDocument.Parse(stdout).RootElement.GetProperty("error");
        Assert.Equal(4, error.GetProperty("exitCode").GetInt32());
        Assert.Equal("checkpoint", error.GetProperty("type").GetString());
        Assert.Equal($"bitmap 'nope' not found in {image}; available: ck", error.GetProperty("message").GetString());
        Assert.Contains("bitmap 'nope' not found", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dry_run_prints_the_bytes_and_writes_nothing()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "32M");
        await IoAsync(image, "write -P 0x01 0 2M");
        var first = await CliProcess.RunAsync(_ws, "backup", image, "--target", _ws["bk"], "--quiet");
        // The setup backup must succeed; if it ever does not, its own error is the useful message.
        Assert.True(first.ExitCode == 0, $"setup backup exited {first.ExitCode}: {first.Stderr}");
        await IoAsync(image, "write -P 0x02 4M 192K", "write -z 8M 64K");
        var before = Sha256(image);
        var manifest = Sha256(Path.Combine(_ws["bk"], "manifest.json"));
        var files = Directory.GetFiles(_ws["bk"]).Order().ToList();

        var export = await CliProcess.RunAsync(_ws, "export", image, _ws["full.qcow2"], "--dry-run");
        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", _ws["bk"], "--dry-run", "--json");

        Assert.Equal(0, export.ExitCode);
        Assert.Contains("would copy 2.2 MiB (2293760 bytes)", export.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["full.qcow2"]));
        Assert.Equal(0, backup.ExitCode);
        var disk = JsonDocument.Parse(backup.Stdout).RootElement.GetProperty("disks")[0];
        Assert.Equal("inc", disk.GetProperty("level").GetString());
        Assert.Equal(256L << 10, disk.GetProperty("plannedBytes").GetInt64());
        Assert.Equal(before, Sha256(image));
        Assert.Equal(manifest, Sha256(Path.Combine(_ws["bk"], "manifest.json")));
        Assert.Equal(files, Directory.GetFiles(_ws["bk"]).Order());
        Assert.Contains(Path.Combine(_ws["bk"], "vda.0.full.qcow2"), files);
    }

    [Fact]
    public async Task Help_shows_examples_and_the_exit_codes_and_version_prints_the_version()
    {
        var help = await CliProcess.RunAsync(_ws, "backup", "--help");
        var rootHelp = await CliProcess.RunAsync(_ws, "--help");
        var version = await CliProcess.RunAsync(_ws, "--version");
        var verbVersion = await CliProcess.RunAsync(_ws, "export", "--version");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Examples:", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("offline-export backup vm/vda.qcow2", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("Exit codes:", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("5    image in use by another process", help.Stdout, StringComparison.Ordinal);
        foreach (var verb in new[] { "info", "export", "backup", "list", "restore", "verify" })
        {
            Assert.Contains(verb, rootHelp.Stdout, StringComparison.Ordinal);
        }

        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout);
        Assert.Equal(0, verbVersion.ExitCode);
        Assert.Equal(version.Stdout, verbVersion.Stdout);
    }

    [Fact]
    public async Task Unknown_option_is_a_usage_error_with_exit_code_2()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", _ws["a.qcow2"], _ws["b.qcow2"], "--no-such-option");

        Assert.Equal(2, code);
        Assert.Contains("--no-such-option", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_option_typo_is_named_with_a_suggestion_in_one_line_never_taken_for_a_file_and_in_json_too()
    {
        var target = _ws["folder"];

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", "--keep-checkpoint", "3", _ws["vda.qcow2"], "--target", target, "--json");

        Assert.Equal(2, code);
        Assert.Equal(
            "offline-export: error: unknown option '--keep-checkpoint' for 'offline-export backup' (did you mean '--keep-checkpoints'?); see 'offline-export backup --help'",
            stderr.TrimEnd('\n'));
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(2, json.RootElement.GetProperty("error").GetProperty("exitCode").GetInt32());
        Assert.StartsWith("unknown option '--keep-checkpoint'", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(target)); // nothing ran
    }

    [Theory]
    [InlineData("")]
    [InlineData("backup")]
    [InlineData("restore")]
    [InlineData("forget")]
    [InlineData("export")]
    public async Task Help_piped_into_a_pager_or_a_mail_is_80_columns_wide(string verb)
    {
        var (code, stdout, _) = await CliProcess.RunAsync(_ws, [.. verb.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        Assert.Equal(0, code);
        Assert.Contains("Exit codes:", stdout, StringComparison.Ordinal);
        Assert.All(stdout.Split('\n'), l => Assert.True(l.TrimEnd().Length <= 80, $"'{l}' is wider than 80 columns"));
    }

    [Fact]
    public async Task A_verb_typo_suggests_the_verb()
    {
        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "bakup", _ws["vda.qcow2"]);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("offline-export: error: unknown command 'bakup' (did you mean 'backup'?); see 'offline-export --help'", stderr.TrimEnd('\n'));
    }
}
