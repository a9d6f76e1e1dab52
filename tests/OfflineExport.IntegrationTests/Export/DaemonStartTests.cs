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

    [Fact]
    public async Task A_daemon_that_resets_the_monitor_before_greeting_and_exits_is_reported_as_exited_not_as_a_bug()
    {
        // A stand-in that dies with our connection still in its backlog: the client reads ECONNRESET (an IOException,
        // which was exit 10). Seen with the real daemon killed during its start (a review, 2 of 20 runs).
        var fake = await FakeMonitorAsync("resetting-daemon.py", """
            import select
            listener.listen(1)
            select.select([listener], [], [], 30)
            listener.close()
            sys.exit(3)
            """);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            StorageDaemon.StartAsync(fake, _ws.WorkDirectory, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), null, cts.Token));

        Assert.Equal(ErrorKind.QemuFailure, error.Kind);
        Assert.StartsWith("qemu-storage-daemon exited at start with code 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_daemon_that_closes_the_monitor_before_greeting_and_lives_on_fails_within_the_start_timeout()
    {
        var fake = await FakeMonitorAsync("closing-daemon.py", """
            import time
            listener.listen(1)
            connection, _ = listener.accept()
            connection.close()
            time.sleep(300)
            """);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            StorageDaemon.StartAsync(fake, _ws.WorkDirectory, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), null, cts.Token));

        // Not the 5 s a dying daemon is given to exit: the start timeout bounds that wait too.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
        Assert.Equal(ErrorKind.QemuFailure, error.Kind);
        Assert.StartsWith("qemu-storage-daemon closed its monitor before greeting", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A python stand-in for the daemon that binds the monitor socket it is given, then runs <paramref name="body"/> (with <c>listener</c> and <c>sys</c>).</summary>
    private async Task<string> FakeMonitorAsync(string name, string body)
    {
        var path = _ws[name];
        var script = "#!/usr/bin/env python3\nimport socket, sys\n"
            + "chardev = sys.argv[sys.argv.index('--chardev') + 1]\n"
            + "listener = socket.socket(socket.AF_UNIX)\n"
            + "listener.bind(chardev.split('path=', 1)[1].split(',server=', 1)[0])\n"
            + body.ReplaceLineEndings("\n") + "\n";
        await File.WriteAllTextAsync(path, script);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
