using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Cli;

/// <summary>
/// The configuration layers in their order (user file, --config, environment, --set) and the errors
/// that name the bad key and where it came from. The qemu-img path shows which layer won: a missing
/// program's name appears in the error.
/// </summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public ConfigurationTests()
    {
        Directory.CreateDirectory(Path.Combine(_ws["xdg"], "offline-export"));
    }

    public void Dispose() => _ws.Dispose();

    private async Task<(int Code, string Stderr)> ExportWithAsync(IDictionary<string, string> environment, params string[] extra)
    {
        var image = _ws["vda.qcow2"];
        if (!File.Exists(image))
        {
            await CreateQcow2Async(image, "8M");
        }

        var env = new Dictionary<string, string>(environment) { ["XDG_CONFIG_HOME"] = _ws["xdg"] };
        await using var cli = CliProcess.Start(_ws, ["export", image, _ws["out.qcow2"], "--quiet", .. extra], environment: env);
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(2));
        return (code, cli.StandardError);
    }

    private void UserConfig(string json) => File.WriteAllText(Path.Combine(_ws["xdg"], "offline-export", "config.json"), json);

    [Fact]
    public async Task Later_layers_win_user_file_then_config_file_then_environment_then_set()
    {
        UserConfig("""{ "Tools": { "QemuImg": "/from/user-file/qemu-img" } }""");
        File.WriteAllText(_ws["extra.json"], """{ "Tools": { "QemuImg": "/from/config-file/qemu-img" } }""");
        var env = new Dictionary<string, string> { ["OFFLINE_EXPORT_Tools__QemuImg"] = "/from/environment/qemu-img" };

        var user = await ExportWithAsync(new Dictionary<string, string>());
        var file = await ExportWithAsync(new Dictionary<string, string>(), "--config", _ws["extra.json"]);
        var environment = await ExportWithAsync(env, "--config", _ws["extra.json"]);
        var set = await ExportWithAsync(env, "--config", _ws["extra.json"], "--set", "Tools:QemuImg=/from/set/qemu-img");

        Assert.Equal([7, 7, 7, 7], new[] { user.Code, file.Code, environment.Code, set.Code });
        Assert.Contains("/from/user-file/qemu-img does not exist; install the Debian package qemu-utils", user.Stderr, StringComparison.Ordinal);
        Assert.Contains("/from/config-file/qemu-img", file.Stderr, StringComparison.Ordinal);
        Assert.Contains("/from/environment/qemu-img", environment.Stderr, StringComparison.Ordinal);
        Assert.Contains("/from/set/qemu-img", set.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_tuning_values_are_used_and_the_export_still_verifies()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 5M");
        var work = Directory.CreateDirectory(_ws["configured-work"]).FullName;
        UserConfig($$"""{ "Export": { "RequestSize": "64K", "MaxInFlight": 3 }, "Daemon": { "StartTimeoutSeconds": 20, "CacheDirect": false }, "WorkDirectory": "{{work}}" }""");

        var env = new Dictionary<string, string> { ["XDG_CONFIG_HOME"] = _ws["xdg"] };
        await using var cli = CliProcess.Start(_ws, ["export", image, _ws["out.qcow2"], "--verify", "--json", "--verbose"], environment: env);
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(0, code);
        // 5 MiB in 64 KiB requests: the configured request size reached the copy engine.
        var json = System.Text.Json.JsonDocument.Parse(cli.StandardOutput).RootElement;
        Assert.Equal(80, json.GetProperty("requests").GetInt64());
        // The daemon's sockets lived in the configured work folder, which is empty again.
        Assert.Contains($"path={work}/offline-export-", cli.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work));
        // A JSON false ("False" to the configuration) is the legacy spelling of none: no file gets O_DIRECT.
        Assert.DoesNotContain("\"cache\":{\"direct\":true}", cli.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, await CompareAsync(_ws["out.qcow2"], image));
    }

    [Theory]
    [InlineData("env", "invalid value 'abc' for Export:RequestSize (from environment variable OFFLINE_EXPORT_Export__RequestSize): expected a size")]
    [InlineData("file", "invalid value '0' for Export:MaxInFlight (from file ")]
    [InlineData("set", "invalid value '99' for Export:MaxInFlight (from --set on the command line): expected a whole number from 1 to 64")]
    [InlineData("unknown", "unknown configuration key 'Export:Speed' (from file ")]
    [InlineData("workdir", "invalid value '/no/such/folder' for WorkDirectory (from environment variable OFFLINE_EXPORT_WorkDirectory): expected an existing folder")]
    [InlineData("cache", "invalid value 'sometimes' for Daemon:CacheDirect (from --set on the command line): expected one of output, all, none, true, false")]
    public async Task Bad_values_name_the_key_and_their_source_and_exit_2(string where, string expected)
    {
        var env = new Dictionary<string, string>();
        string[] extra = [];
        switch (where)
        {
            case "env":
                env["OFFLINE_EXPORT_Export__RequestSize"] = "abc";
                break;
            case "file":
                UserConfig("""{ "Export": { "MaxInFlight": 0 } }""");
                break;
            case "set":
                extra = ["--set", "Export:MaxInFlight=99"];
                break;
            case "unknown":
                UserConfig("""{ "Export": { "Speed": "fast" } }""");
                break;
            case "cache":
                extra = ["--set", "Daemon:CacheDirect=sometimes"];
                break;
            default:
                env["OFFLINE_EXPORT_WorkDirectory"] = "/no/such/folder";
                break;
        }

        var (code, stderr) = await ExportWithAsync(env, extra);

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(_ws["out.qcow2"]));
    }

    [Fact]
    public async Task Broken_configuration_file_is_named()
    {
        UserConfig("{ this is not json");

        var (code, stderr) = await ExportWithAsync(new Dictionary<string, string>());

        Assert.Equal(2, code);
        Assert.Contains("cannot read configuration", stderr, StringComparison.Ordinal);
        Assert.Contains("config.json", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Export:Splice=true")]
    [InlineData("Export:Connections=2")]
    [InlineData("Daemon:Split=true")]
    [InlineData("Daemon:IoThreads=true")]
    [InlineData("Daemon:Aio=native")]
    public async Task Levers_that_lost_their_measurement_are_gone_and_refused_as_unknown_keys(string setting)
    {
        var (code, stderr) = await ExportWithAsync(new Dictionary<string, string>(), "--set", setting);

        Assert.Equal(2, code);
        Assert.Contains($"unknown configuration key '{setting.Split('=')[0]}' (from --set on the command line)", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
        _ws.AssertNothingLeftBehind();
    }
}
