using System.CommandLine;
using System.Text.Json.Nodes;
using OfflineExport.Cli.Configuration;

namespace OfflineExport.Cli.Tests;

/// <summary>How a verb's failure reaches the user: one line on stderr, the exit code, and with --json an error object.</summary>
public sealed class CommandRunnerTests
{
    [Fact]
    public async Task A_library_error_is_one_line_and_its_kind_s_exit_code()
    {
        var console = new TestConsole();
        using var interruption = new Interruption();
        var runner = new CommandRunner(console.Console, interruption);

        var code = await runner.RunAsync(Parse(), json: false, (_, _) => throw OfflineExportException.ImageInUse("/vm/vda.qcow2", "a qemu process holds its write lock"));

        Assert.Equal(5, code);
        Assert.Equal(
            "offline-export: error: image /vm/vda.qcow2 is in use by another process (is the VM still running? shut it down first): a qemu process holds its write lock" + Environment.NewLine,
            console.Error.ToString());
        Assert.Equal(string.Empty, console.Out.ToString());
    }

    [Fact]
    public async Task With_json_the_error_is_also_an_object_on_stdout_naming_its_kind()
    {
        var console = new TestConsole();
        using var interruption = new Interruption();
        var runner = new CommandRunner(console.Console, interruption);

        var code = await runner.RunAsync(Parse(), json: true, (_, _) => throw new OfflineExportException(ErrorKind.BackupFolderProblem, "folder /b is in use by another run\nsecond line"));

        var error = JsonNode.Parse(console.Out.ToString())!["error"]!.AsObject();
        Assert.Equal(9, code);
        Assert.Equal("folder /b is in use by another run | second line", (string?)error["message"]);
        Assert.Equal(9, (int)error["exitCode"]!);
        Assert.Equal("folder", (string?)error["type"]);
    }

    [Fact]
    public async Task A_bug_says_so_and_asks_for_verbose()
    {
        var console = new TestConsole();
        using var interruption = new Interruption();
        var runner = new CommandRunner(console.Console, interruption);

        var code = await runner.RunAsync(Parse(), json: false, (_, _) => throw new InvalidOperationException("oops"));

        Assert.Equal(10, code);
        Assert.EndsWith("offline-export: this is a bug; run again with --verbose for details" + Environment.NewLine, console.Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_setting_is_a_usage_error_before_the_verb_runs()
    {
        var console = new TestConsole();
        using var interruption = new Interruption();
        var runner = new CommandRunner(console.Console, interruption);
        var ran = false;

        var code = await runner.RunAsync(Parse("--set", "Export:MaxInFlight=0"), json: false, (_, _) =>
        {
            ran = true;
            return Task.FromResult(0);
        });

        Assert.Equal(2, code);
        Assert.False(ran);
        Assert.StartsWith("offline-export: error: invalid value '0' for Export:MaxInFlight (from --set on the command line)", console.Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_verb_gets_quiet_and_the_configured_options()
    {
        var console = new TestConsole();
        using var interruption = new Interruption();
        var runner = new CommandRunner(console.Console, interruption);
        VerbContext? seen = null;

        var code = await runner.RunAsync(Parse("--quiet", "--set", "Export:MaxInFlight=3"), json: false, (context, _) =>
        {
            seen = context;
            return Task.FromResult(0);
        });

        Assert.Equal(0, code);
        Assert.True(seen!.Quiet);
        Assert.Equal(3, seen.Options.MaxInFlight);
        Assert.Null(seen.Progress(json: false));
    }

    private static ParseResult Parse(params string[] args) =>
        new RootCommand { CommonOptions.Verbose, CommonOptions.Quiet, CommonOptions.Config, CommonOptions.Set }.Parse(args);
}
