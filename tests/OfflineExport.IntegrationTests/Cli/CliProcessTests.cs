using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Cli;

/// <summary>The program as users run it: exit codes, one-line errors, --verbose, and signals mid-export.</summary>
public sealed class CliProcessTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Export_prints_one_summary_line_and_exits_0()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "32M");
        await IoAsync(image, "write -P 0x01 0 3M");

        var (code, stdout, _) = await CliProcess.RunAsync(_ws, "export", image, _ws["full.qcow2"], "--verify", "--format", "qcow2");

        Assert.Equal(0, code);
        Assert.Single(stdout.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"full export of {image} -> {_ws["full.qcow2"]}: 3.0 MiB copied", stdout, StringComparison.Ordinal);
        Assert.Contains("verified identical", stdout, StringComparison.Ordinal);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Missing_bitmap_exits_4_with_exactly_one_line_on_stderr()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        await AddBitmapAsync(image, "monday");
        await CreateQcow2Async(_ws["prev.qcow2"], "8M");

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["inc.qcow2"], "--bitmap", "friday", "--backing", _ws["prev.qcow2"]);

        Assert.Equal(4, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal([$"offline-export: error: bitmap 'friday' not found in {image}; available: monday"], stderr.TrimEnd().Split('\n'));
        _ws.AssertNothingLeftBehind();
    }

    [Theory]
    [InlineData("missing-image", 3)]
    [InlineData("output-exists", 6)]
    [InlineData("backing-without-bitmap", 2)]
    public async Task Refusals_map_to_their_documented_exit_codes(string scenario, int expected)
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        await File.WriteAllTextAsync(_ws["exists.qcow2"], "keep me");
        string[] args = scenario switch
        {
            "missing-image" => ["export", _ws["absent.qcow2"], _ws["out.qcow2"]],
            "output-exists" => ["export", image, _ws["exists.qcow2"]],
            _ => ["export", image, _ws["out.qcow2"], "--backing", image],
        };

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, args);

        Assert.Equal(expected, code);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("offline-export: error: ", stderr, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(_ws["exists.qcow2"]));
    }

    [Fact]
    public async Task Unreadable_image_exits_3_naming_the_path()
    {
        // Root reads anything, so as root the program runs as "nobody" from a copy it can reach.
        var shared = Directory.CreateDirectory(_ws["shared"]).FullName;
        var image = Path.Combine(shared, "secret.qcow2");
        await CreateQcow2Async(image, "8M");
        File.SetUnixFileMode(image, UnixFileMode.None);
        string program = CliProcess.Program;
        List<string> prefix = [];
        if (Environment.UserName == "root")
        {
            var app = Path.Combine(_ws.Root, "app");
            program = Path.Combine(app, "offline-export");
            if (CliProcess.NativeProgram is { } native)
            {
                Directory.CreateDirectory(app);
                File.SetUnixFileMode(app, (UnixFileMode)0b111_101_101);
                File.Copy(native, program);
            }
            else
            {
                CopyFolder(AppContext.BaseDirectory, app);
            }
            File.SetUnixFileMode(_ws.Root, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(shared, (UnixFileMode)0b111_111_111);
            prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env", $"HOME={shared}", $"TMPDIR={shared}"];
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var command = CliWrap.Cli.Wrap(prefix.Count > 0 ? prefix[0] : program)
            .WithArguments([.. prefix.Skip(1), .. (prefix.Count > 0 ? new[] { program } : []), "export", image, Path.Combine(shared, "out.qcow2")])
            .WithValidation(CliWrap.CommandResultValidation.None);
        var result = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(command, cts.Token);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"offline-export: error: cannot open image {image}: Could not open '{image}': Permission denied", result.StandardError.Trim());
        Assert.False(File.Exists(Path.Combine(shared, "out.qcow2")));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        File.SetUnixFileMode(to, (UnixFileMode)0b111_101_101);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.EnumerateDirectories(from))
        {
            CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }

    [Fact]
    public async Task Verbose_logs_qemu_commands_and_qmp_traffic()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["full.qcow2"], "--verbose", "--quiet");

        Assert.True(code == 0, stderr);
        Assert.Contains("run [", stderr, StringComparison.Ordinal);
        Assert.Contains("qemu-img info --backing-chain --output=json -U", stderr, StringComparison.Ordinal);
        Assert.Contains("qmp → {\"execute\":\"blockdev-add\"", stderr, StringComparison.Ordinal);
        Assert.Contains("qmp ← {\"return\"", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Signals.SIGINT, 130, false)]
    [InlineData(Signals.SIGTERM, 143, false)]
    [InlineData(Signals.SIGINT, 130, true)]
    public async Task Signal_mid_export_stops_the_daemon_removes_the_partial_output_and_exits_with_its_code(int signal, int expectedCode, bool wholeGroup)
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "2G");
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x3c 0 1536M");
        await CreateQcow2Async(_ws["prev.qcow2"], "2G");
        var before = Sha256(image);

        await using var cli = CliProcess.Start(_ws, ["export", image, _ws["inc.qcow2"], "--bitmap", "ck", "--backing", _ws["prev.qcow2"]], ownSession: wholeGroup);
        await cli.FirstProgress.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.NotEmpty(_ws.DaemonProcesses());
        // A terminal's Ctrl-C reaches the whole foreground group, the daemon included.
        Signals.Send(wholeGroup ? -cli.Id : cli.Id, signal);
        var code = await cli.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(expectedCode, code);
        Assert.Contains("interrupted", cli.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }
}
