using CliWrap.Buffered;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>The daemon starts with malloc's thresholds fixed, so its request buffers stay in its heap (docs/PERFORMANCE.md, session 27).</summary>
public sealed class DaemonMallocTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task The_daemon_gets_the_malloc_tunables_and_glibc_takes_both()
    {
        // A wrapper records what the daemon is given, then becomes it.
        var seen = _ws["tunables.txt"];
        var wrapper = _ws["qsd-wrapper.sh"];
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nprintf '%s' \"$GLIBC_TUNABLES\" > '{seen}'\nexec qemu-storage-daemon \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        await using var daemon = await StorageDaemon.StartAsync(wrapper, _ws.WorkDirectory, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), null, cts.Token);
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(_ws.WorkDirectory, "daemon.pid"))).Trim());
        // glibc parses the variable in place, ending each tunable with a NUL: both must be there to be taken.
        var environment = (await File.ReadAllTextAsync($"/proc/{pid}/environ")).Split('\0');
        await daemon.StopAsync(TimeSpan.FromSeconds(30), cts.Token);

        Assert.Equal(StorageDaemon.MallocTunablesWith(Environment.GetEnvironmentVariable(StorageDaemon.MallocTunablesVariable)), await File.ReadAllTextAsync(seen));
        Assert.Contains("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432", environment);
        Assert.Contains("glibc.malloc.trim_threshold=1073741824", environment);
    }

    [Fact]
    public async Task Glibc_takes_ours_and_lets_an_operator_value_after_them_win()
    {
        // The dynamic loader reports the tunables it took from the environment, as the daemon's glibc takes them.
        var combined = StorageDaemon.MallocTunablesWith("glibc.malloc.mmap_threshold=131072");
        var listing = await CliWrap.Cli.Wrap("/lib64/ld-linux-x86-64.so.2").WithArguments("--list-tunables")
            .WithEnvironmentVariables(variables => variables.Set(StorageDaemon.MallocTunablesVariable, combined))
            .ExecuteBufferedAsync();

        Assert.Contains("glibc.malloc.trim_threshold: 0x40000000", listing.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("glibc.malloc.mmap_threshold: 0x20000", listing.StandardOutput, StringComparison.Ordinal);
    }
}
