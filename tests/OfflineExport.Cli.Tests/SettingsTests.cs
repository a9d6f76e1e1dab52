using Microsoft.Extensions.Configuration;
using OfflineExport.Cli.Configuration;
using OfflineExport.Export;

namespace OfflineExport.Cli.Tests;

/// <summary>
/// Settings and where they come from: built-in defaults, a --config file, OFFLINE_EXPORT_* variables and
/// --set, later winning. The tests that set environment variables are in this one class, so they never run
/// beside each other.
/// </summary>
public sealed class SettingsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("oe-settings-").FullName;
    private readonly string? _xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");

    public SettingsTests()
    {
        // The user's own file must not leak in.
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", _folder);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", _xdg);
        Environment.SetEnvironmentVariable("OFFLINE_EXPORT_Export__MaxInFlight", null);
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Defaults_are_the_library_defaults()
    {
        var options = Settings.ToExportOptions(ConfigurationLayers.Build(null, []), null);

        Assert.Equal(new ExportOptions().RequestSize, options.RequestSize);
        Assert.Equal(new ExportOptions().MaxInFlight, options.MaxInFlight);
        Assert.Equal(CacheDirectScope.Output, options.CacheDirect);
        Assert.Null(options.WorkDirectory);
        Assert.Equal("qemu:///system", options.LibvirtUri);
    }

    [Fact]
    public void The_libvirt_uri_comes_from_the_configuration()
    {
        var options = Settings.ToExportOptions(ConfigurationLayers.Build(null, ["Libvirt:Uri=qemu+ssh://root@host/system"]), null);

        Assert.Equal("qemu+ssh://root@host/system", options.LibvirtUri);
    }

    [Fact]
    public void Later_sources_win_file_then_environment_then_set()
    {
        var file = Path.Combine(_folder, "config.json");
        File.WriteAllText(file, """{ "Export": { "MaxInFlight": 3, "RequestSize": "256K" } }""");

        var fromFile = Settings.ToExportOptions(ConfigurationLayers.Build(file, []), null);
        Environment.SetEnvironmentVariable("OFFLINE_EXPORT_Export__MaxInFlight", "5");
        var fromEnvironment = Settings.ToExportOptions(ConfigurationLayers.Build(file, []), null);
        var fromSet = Settings.ToExportOptions(ConfigurationLayers.Build(file, ["Export:MaxInFlight=7"]), null);

        Assert.Equal((3, 256 * 1024), (fromFile.MaxInFlight, fromFile.RequestSize));
        Assert.Equal(5, fromEnvironment.MaxInFlight);
        Assert.Equal(7, fromSet.MaxInFlight);
        Assert.Equal(256 * 1024, fromSet.RequestSize);
    }

    [Theory]
    [InlineData("Export:MaxInFlight=0", "Export:MaxInFlight")]
    [InlineData("Export:MaxInFlight=many", "a whole number from 1 to 64")]
    [InlineData("Export:RequestSize=1G", "Export:RequestSize")]
    [InlineData("Daemon:CacheDirect=sometimes", "one of output, all, none")]
    [InlineData("WorkDirectory=/nonexistent/folder", "an existing folder")]
    [InlineData("Tools:QemuImg=", "a program name or path")]
    public void A_bad_value_is_a_configuration_error_naming_the_key_and_its_source(string setting, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => Settings.ToExportOptions(ConfigurationLayers.Build(null, [setting]), null));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("--set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_lists_the_known_ones()
    {
        var error = Assert.Throws<ConfigurationException>(() => Settings.ToExportOptions(ConfigurationLayers.Build(null, ["Export:Splice=true"]), null));

        Assert.StartsWith("unknown configuration key 'Export:Splice' (from --set on the command line); known keys: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_set_without_equals_and_a_missing_file_are_refused()
    {
        Assert.Contains("--set expects KEY=VALUE", Assert.Throws<ConfigurationException>(() => ConfigurationLayers.Build(null, ["Export:MaxInFlight"])).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ConfigurationException>(() => ConfigurationLayers.Build(Path.Combine(_folder, "none.json"), [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configuration_file_that_is_a_pipe_or_a_folder_is_refused_without_reading_it()
    {
        var fifo = MakeFifo("pipe.json");

        // A pipe with no writer: reading it would block for ever, so this returning at all is half the test.
        var pipe = Assert.Throws<ConfigurationException>(() => ConfigurationLayers.Build(fifo, []));
        var folder = Assert.Throws<ConfigurationException>(() => ConfigurationLayers.Build(_folder, []));

        Assert.Equal($"configuration file {fifo} is a named pipe, not a regular file; nothing was read from it", pipe.Message);
        Assert.Contains("does not exist", folder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configuration_file_that_becomes_a_pipe_after_the_check_is_refused_when_opened()
    {
        var fifo = MakeFifo("late-pipe.json");

        // As the JSON reader sees a name that passed the check and was swapped for a pipe since: it must not wait for a writer.
        var reading = Task.Run(() => new ConfigurationBuilder().AddJsonFile(ConfigurationFiles.Instance, fifo, optional: false, reloadOnChange: false).Build());

        Assert.Same(reading, await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(10))));
        var refusal = await Assert.ThrowsAsync<IOException>(() => reading);
        Assert.Equal($"{fifo} is a named pipe, not a regular file", refusal.Message);
    }

    [Fact]
    public void A_symlinked_configuration_file_is_read_and_named_as_given()
    {
        var real = Path.Combine(_folder, "managed.json");
        File.WriteAllText(real, """{ "Export": { "MaxInFlight": 5 } }""");
        var link = Path.Combine(_folder, "config.json");
        File.CreateSymbolicLink(link, real);

        var configuration = ConfigurationLayers.Build(link, []);

        Assert.Equal("5", configuration["Export:MaxInFlight"]);
        Assert.Equal($"file {link}", ConfigurationLayers.SourceOf(configuration, "Export:MaxInFlight"));
    }

    private string MakeFifo(string name)
    {
        var fifo = Path.Combine(_folder, name);
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return fifo;
    }
}
