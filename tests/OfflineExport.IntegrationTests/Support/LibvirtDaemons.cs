using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>
/// A real libvirtd (and virtlogd) for the libvirt tests: used when one runs, started otherwise (as root,
/// as a CI machine is), and then stopped, by the pids this fixture started, when the tests are done.
/// </summary>
public sealed class LibvirtDaemons : IAsyncLifetime
{
    public const string Uri = "qemu:///system";

    private readonly List<int> _started = [];

    public async Task InitializeAsync()
    {
        // Debian's udev rule makes /dev/kvm root:kvm 0660; a container without udev leaves it 0600. libvirt then
        // finds KVM usable (as root) but its probe (as libvirt-qemu) without it, judges its capability cache stale
        // and probes qemu again on every define: 36 s each, measured. Restore the standard mode.
        if (File.Exists("/dev/kvm") && (File.GetUnixFileMode("/dev/kvm") & UnixFileMode.GroupWrite) == 0)
        {
            await CliWrap.Cli.Wrap("chgrp").WithArguments(["kvm", "/dev/kvm"]).ExecuteAsync();
            File.SetUnixFileMode("/dev/kvm", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        }

        foreach (var (name, program) in new[] { ("virtlogd", "/usr/sbin/virtlogd"), ("libvirtd", "/usr/sbin/libvirtd") })
        {
            if (Pids(name).Count > 0)
            {
                continue;
            }

            Assert.True(File.Exists(program), $"{program} is missing: scripts/install-deps.sh installs libvirt-daemon-system");
            var before = Pids(name);
            // -d: the daemon forks into the background; its pid is the new one of that name.
            await CliWrap.Cli.Wrap(program).WithArguments(["-d"]).ExecuteAsync();
            _started.AddRange(await WaitForNewAsync(name, before));
        }

        // libvirtd answers once its socket is up.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var ping = await Virsh("version").WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
            if (ping.ExitCode == 0)
            {
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "libvirtd did not answer: " + ping.StandardError);
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var pid in Enumerable.Reverse(_started))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                Signals.Send(pid, 15); // SIGTERM: a libvirtd that was started here shuts down cleanly
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await process.WaitForExitAsync(wait.Token);
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }
    }

    /// <summary>A virsh command against <see cref="Uri"/>.</summary>
    public static Command Virsh(params string[] args) => CliWrap.Cli.Wrap("virsh").WithArguments(["-c", Uri, .. args]);

    /// <summary>Runs virsh and returns its standard output; fails the test on a non-zero exit.</summary>
    public static async Task<string> VirshAsync(params string[] args)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var result = await Virsh(args).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cts.Token);
        Assert.True(result.ExitCode == 0, $"virsh {string.Join(' ', args)}: {result.StandardError}");
        return result.StandardOutput;
    }

    private static async Task<IReadOnlyList<int>> WaitForNewAsync(string name, IReadOnlyList<int> before)
    {
        for (var i = 0; i < 100; i++)
        {
            var added = Pids(name).Except(before).ToList();
            if (added.Count > 0)
            {
                return added;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException($"{name} did not start");
    }

    private static List<int> Pids(string name) =>
        Process.GetProcessesByName(name).Select(p =>
        {
            using (p)
            {
                return p.Id;
            }
        }).ToList();
}
