using System.Diagnostics;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Nothing waits for ever: a daemon that stops answering or a qemu-img blocked on a FIFO fails the
/// run with exit 8 after the progress timeout, and the run cleans up.
/// </summary>
public sealed class HangTests : IDisposable
{
    private const string ShortTimeout = "Qemu:ProgressTimeoutSeconds=2";
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private async Task<string> BigDirtyImageAsync()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "2G");
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x3c 0 1536M");
        await CreateQcow2Async(_ws["prev.qcow2"], "2G");
        return image;
    }

    [Fact]
    public async Task Daemon_stopped_with_SIGSTOP_mid_copy_fails_with_exit_8_within_the_progress_timeout_and_leaves_nothing()
    {
        var image = await BigDirtyImageAsync();
        var before = Sha256(image);

        await using var cli = CliProcess.Start(_ws, ["export", image, _ws["inc.qcow2"], "--bitmap", "ck", "--backing", _ws["prev.qcow2"], "--set", ShortTimeout]);
        await cli.FirstProgress.WaitAsync(TimeSpan.FromMinutes(1));
        var daemons = _ws.DaemonProcesses();
        Assert.NotEmpty(daemons);
        foreach (var pid in daemons)
        {
            Signals.Send(pid, Signals.SIGSTOP);
        }

        var clock = Stopwatch.StartNew();
        var code = await cli.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(8, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed} to give up on a stopped daemon");
        // Stopped while we wait for replies, or while a request's bytes are still going out (a full socket): either is named.
        Assert.Matches("NBD: (no reply from the server for .* it stopped answering|a request was still being sent after .* the server stopped reading)", cli.StandardError);
        Assert.Single(cli.StandardError.TrimEnd().Split('\n'), l => l.StartsWith("offline-export: error:", StringComparison.Ordinal));
        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Daemon_stopped_before_it_answers_QMP_fails_with_exit_8()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x11 0 1M");
        var before = Sha256(image);

        // A wrapper that stops itself (and so the daemon it becomes) right after exec: the monitor never answers.
        var wrapper = _ws["stopped-daemon.sh"];
        await File.WriteAllTextAsync(wrapper, "#!/bin/sh\nkill -STOP $$\nexec qemu-storage-daemon \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var clock = Stopwatch.StartNew();
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["full.qcow2"], "--set", ShortTimeout, "--set", "Daemon:StartTimeoutSeconds=2", "--set", $"Tools:StorageDaemon={wrapper}");

        Assert.Equal(8, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.StartsWith("offline-export: error:", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["full.qcow2"]));
        Assert.Equal(before, Sha256(image));
        Assert.Empty(StoppedProcessesRunning(wrapper));
        _ws.AssertNothingLeftBehind();
    }

    [Theory]
    [InlineData("export")]
    [InlineData("info")]
    [InlineData("backup")]
    public async Task Fifo_as_backing_file_fails_with_exit_8_after_the_progress_timeout(string verb)
    {
        var fifo = _ws["base.raw"];
        await MakeFifoAsync(fifo);
        var image = _ws["vda.qcow2"];
        await ImgAsync("create", "-q", "-f", "qcow2", "-u", "-b", fifo, "-F", "raw", image, "64M");
        var before = Sha256(image);
        // Stated: a detected qcow2 naming a backing file is refused before qemu-img runs (RefusalTests).
        string[] args = verb switch
        {
            "export" => ["export", image, _ws["out.qcow2"], "--format", "qcow2"],
            "info" => ["info", image],
            _ => ["backup", image, "--target", _ws["folder"], "--format", "qcow2"],
        };

        var clock = Stopwatch.StartNew();
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, [.. args, "--set", ShortTimeout]);

        Assert.Equal(8, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains("made no progress for 2 s", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(_ws["out.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    private static IEnumerable<int> StoppedProcessesRunning(string script) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && SafeRead($"/proc/{pid}/cmdline").Contains(script, StringComparison.Ordinal));

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
