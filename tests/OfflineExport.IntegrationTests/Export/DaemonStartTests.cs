using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>
/// The real qemu-storage-daemon waits for our monitor connection while it creates the chardev (<c>wait=on</c>),
/// so the monitor attaches to a connection already made: how its start and its failures are seen from here.
/// </summary>
public sealed class DaemonStartTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task The_daemon_waits_for_the_monitor_connection_then_greets_once_and_answers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var log = new List<string>();

        await using var daemon = await StorageDaemon.StartAsync(_ws.Options.Tools.Resolve().StorageDaemon, _ws.WorkDirectory, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), line => { lock (log) { log.Add(line); } }, cts.Token);
        var version = await daemon.Qmp.ExecuteAsync("query-version", null, cts.Token);
        await daemon.StopAsync(TimeSpan.FromSeconds(30), cts.Token);

        Assert.Equal(7, (int)version!["qemu"]!["major"]!);
        lock (log)
        {
            // The daemon said it waited for our connection (so its main loop never accepted one), and greeted once.
            Assert.Single(log, l => l.StartsWith("qmp ← {\"QMP\"", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("QEMU waiting for connection on:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_daemon_that_fails_after_accepting_the_monitor_is_reported_in_its_own_words_without_its_waiting_notice()
    {
        // The wrapper adds an option the daemon rejects after it created the monitor's chardev and accepted us.
        var wrapper = _ws["failing-daemon.sh"];
        await File.WriteAllTextAsync(wrapper, "#!/bin/sh\nexec qemu-storage-daemon \"$@\" --blockdev driver=no-such-driver,node-name=x\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            StorageDaemon.StartAsync(wrapper, _ws.WorkDirectory, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), null, cts.Token));

        Assert.Equal(ErrorKind.QemuFailure, error.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}: the start timeout was waited out");
        Assert.StartsWith("qemu-storage-daemon exited at start with code 1: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-driver", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("waiting for connection", error.Message, StringComparison.Ordinal);
    }
}
