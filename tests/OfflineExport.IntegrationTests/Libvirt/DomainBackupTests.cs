using System.Text.Json;
using CliWrap.Buffered;
using System.Xml.Linq;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Libvirt;

/// <summary>backup --domain against a real libvirtd with real domains: refusal while it runs, disks by name, and one checkpoint chain with libvirt's live backups.</summary>
[Collection(LibvirtCollection.Name)]
public sealed class DomainBackupTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task A_running_domain_is_refused_and_nothing_is_written()
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        await domain.StartAsync();
        var before = Sha256(domain.Vda);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"]);

        Assert.Equal(5, code);
        Assert.Equal($"offline-export: error: domain {domain.Name} is running; its disks are in use: shut it down first (virsh -c qemu:///system shutdown {domain.Name}, or --shutdown)", stderr.Trim());
        Assert.False(Directory.Exists(_ws["bk"]));
        Assert.Equal("running", await domain.StateAsync());
        await domain.StopAsync();
        Assert.Equal(before, Sha256(domain.Vda));
        Assert.Empty(await BitmapNamesAsync(domain.Vda));
    }

    [Fact]
    public async Task A_missing_domain_says_so()
    {
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", "oe-no-such-domain", "--target", _ws["bk"]);

        Assert.Equal(3, code);
        Assert.StartsWith("offline-export: error: libvirt at qemu:///system has no domain 'oe-no-such-domain'", stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shut_off_domain_is_backed_up_by_name_and_its_next_live_incremental_continues_from_it()
    {
        // Arrange: data in both disks, written while the domain is shut off.
        await using var domain = await TestDomain.DefineAsync(_ws);
        await IoAsync(domain.Vda, "write -P 0x11 0 2M");
        await IoAsync(domain.Vdb, "write -P 0x22 1M 1M");

        // Act: the offline backup by name.
        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--json");

        // Assert: one point per disk, named by target dev; the cdrom skipped (a JSON warning); the XML kept.
        Assert.True(code == 0, stderr);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["vda", "vdb"], result.GetProperty("disks").EnumerateArray().Select(d => d.GetProperty("disk").GetString()));
        Assert.Contains("skipping sda: a cdrom", result.GetProperty("warnings").EnumerateArray().Select(n => n.GetString()));
        var checkpoint = result.GetProperty("disks")[0].GetProperty("checkpointCreated").GetString()!;
        var kept = XDocument.Load(Assert.Single(Directory.GetFiles(_ws["bk"], "domain.*.xml")));
        Assert.Equal(domain.Name, kept.Root!.Element("name")!.Value);
        Assert.Equal(0, await CompareAsync(Path.Combine(_ws["bk"], "vda.0.full.qcow2"), domain.Vda));

        // libvirt knows the checkpoint, with each disk's bitmap.
        Assert.Equal([checkpoint], await domain.CheckpointsAsync());
        var registered = XDocument.Parse(await LibvirtDaemons.VirshAsync("checkpoint-dumpxml", domain.Name, checkpoint));
        Assert.Equal(
            [("vda", checkpoint), ("vdb", checkpoint)],
            registered.Root!.Element("disks")!.Elements("disk").Where(d => d.Attribute("checkpoint")?.Value == "bitmap").Select(d => (d.Attribute("name")!.Value, d.Attribute("bitmap")!.Value)));

        // A change after our backup (the enabled checkpoint bitmap records it), then the VM starts again:
        // libvirt's own live incremental starts from our offline checkpoint and holds exactly that change.
        await IoAsync(domain.Vda, "write -P 0x33 8M 1M");
        await domain.StartAsync();
        var incremental = _ws["live-vda.inc.qcow2"];
        var backupXml = _ws["live-backup.xml"];
        await File.WriteAllTextAsync(backupXml, PushBackupOfVda(incremental, checkpoint));
        await LibvirtDaemons.VirshAsync("backup-begin", domain.Name, backupXml);
        await WaitForJobAsync(domain.Name);
        await domain.StopAsync();
        var changed = await TopLayerMapAsync(incremental);
        Assert.Equal([(8L << 20, 1L << 20)], changed.Where(e => e.Data).Select(e => (e.Start, e.Length)));
    }

    [Fact]
    public async Task Each_offline_checkpoint_chains_under_the_last_and_pruning_forgets_only_what_it_removes()
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        var checkpoints = new List<string>();
        var parents = new List<string?>();
        for (var run = 0; run < 3; run++)
        {
            await IoAsync(domain.Vda, $"write -P 0x3{run} {run * 4}M 1M");
            // The third run keeps one checkpoint (plus its chain's first): the second one goes.
            string[] keep = run == 2 ? ["--keep-checkpoints", "1"] : [];
            var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, ["backup", "--domain", domain.Name, "--target", _ws["bk"], "--json", .. keep]);
            Assert.True(code == 0, stderr);
            checkpoints.Add(JsonDocument.Parse(stdout).RootElement.GetProperty("disks")[0].GetProperty("checkpointCreated").GetString()!);
            parents.Add(await ParentAsync(domain.Name, checkpoints[^1]));
            await Task.Delay(1100); // checkpoint names carry the second
        }

        // Each registered under the one before (the first under none, the domain having no checkpoint); the
        // third was registered under the second, which its own run then pruned: libvirt re-parented it.
        Assert.Equal([null, checkpoints[0], checkpoints[0]], parents);
        Assert.Equal([checkpoints[0], checkpoints[2]], (await domain.CheckpointsAsync()).Order(StringComparer.Ordinal));
        Assert.Equal([checkpoints[0], checkpoints[2]], (await BitmapNamesAsync(domain.Vda)).Order(StringComparer.Ordinal));
        // libvirt re-parents what the removed checkpoint had under it.
        Assert.Equal(checkpoints[0], await ParentAsync(domain.Name, checkpoints[2]));
    }

    [Fact]
    public async Task Forget_and_remove_all_make_libvirt_forget_the_checkpoints_they_remove()
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        var checkpoints = new List<string>();
        for (var run = 0; run < 3; run++)
        {
            await IoAsync(domain.Vda, $"write -P 0x4{run} {run * 4}M 1M");
            var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--json");
            Assert.True(code == 0, stderr);
            checkpoints.Add(JsonDocument.Parse(stdout).RootElement.GetProperty("disks")[0].GetProperty("checkpointCreated").GetString()!);
            await Task.Delay(1100); // checkpoint names carry the second
        }

        var forget = await CliProcess.RunAsync(_ws, "forget", _ws["bk"], "--keep-last", "1");
        var afterForget = await domain.CheckpointsAsync();
        var bitmapsAfterForget = await BitmapNamesAsync(domain.Vda);
        var retire = await CliProcess.RunAsync(_ws, "checkpoints", _ws["bk"], "--remove-all");

        Assert.True(forget.ExitCode == 0, forget.Stderr);
        Assert.Equal([checkpoints[2]], afterForget);
        Assert.Equal([checkpoints[2]], bitmapsAfterForget);
        Assert.True(retire.ExitCode == 0, retire.Stderr);
        Assert.Empty(retire.Stderr);
        Assert.Empty(await domain.CheckpointsAsync());
        Assert.Empty(await BitmapNamesAsync(domain.Vda));
    }

    [Fact]
    public async Task Restore_domain_out_writes_every_disk_and_a_domain_xml_that_boots()
    {
        // Arrange: two runs, so the restore picks one that is not the latest.
        await using var domain = await TestDomain.DefineAsync(_ws);
        await IoAsync(domain.Vda, "write -P 0x41 0 1M");
        await IoAsync(domain.Vdb, "write -P 0x42 0 1M");
        var first = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--quiet");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var vdaAtZero = await GuestSha256Async(domain.Vda);
        var vdbAtZero = await GuestSha256Async(domain.Vdb);
        await IoAsync(domain.Vda, "write -P 0x43 2M 1M");
        await Task.Delay(1100);
        var second = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--quiet");
        Assert.True(second.ExitCode == 0, second.Stderr);

        // Act
        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["restored"], "--point", "0", "--json");

        // Assert: both disks as they were at the first run, and an XML pointing at them.
        Assert.True(code == 0, stderr);
        var result = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(["vda", "vdb"], result.GetProperty("disks").EnumerateArray().Select(d => d.GetProperty("disk").GetString()));
        Assert.Equal(vdaAtZero, await GuestSha256Async(_ws["restored/vda.qcow2"]));
        Assert.Equal(vdbAtZero, await GuestSha256Async(_ws["restored/vdb.qcow2"]));
        var xml = XDocument.Load(_ws["restored/domain.xml"]);
        var disks = xml.Root!.Element("devices")!.Elements("disk").Where(d => d.Attribute("device")?.Value == "disk").ToList();
        Assert.Equal([_ws["restored/vda.qcow2"], _ws["restored/vdb.qcow2"]], disks.Select(d => d.Element("source")!.Attribute("file")!.Value));
        Assert.All(disks, d => Assert.Equal("qcow2", d.Element("driver")!.Attribute("type")!.Value));

        // It boots (as a copy beside the original: another name, no uuid), holding the restored disks.
        var copy = domain.Name + "-restored";
        xml.Root.Element("name")!.Value = copy;
        xml.Root.Element("uuid")?.Remove();
        xml.Save(_ws["restored/copy.xml"]);
        await LibvirtDaemons.VirshAsync("define", _ws["restored/copy.xml"]);
        try
        {
            await LibvirtDaemons.VirshAsync("start", copy);
            Assert.Equal("running", (await LibvirtDaemons.VirshAsync("domstate", copy)).Trim());
            Assert.Contains(_ws["restored/vda.qcow2"], await LibvirtDaemons.VirshAsync("domblklist", copy), StringComparison.Ordinal);
        }
        finally
        {
            await LibvirtDaemons.Virsh("destroy", copy).WithValidation(CliWrap.CommandResultValidation.None).ExecuteAsync();
            await LibvirtDaemons.Virsh("undefine", copy).WithValidation(CliWrap.CommandResultValidation.None).ExecuteAsync();
        }
    }

    [Fact]
    public async Task Restore_domain_out_takes_the_latest_run_even_when_the_first_disk_is_no_longer_in_it()
    {
        // Arrange: a run of both disks, then vda detached, vdb written and a run of vdb alone.
        await using var domain = await TestDomain.DefineAsync(_ws);
        await IoAsync(domain.Vda, "write -P 0x61 0 1M");
        await IoAsync(domain.Vdb, "write -P 0x62 0 1M");
        var first = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--quiet");
        Assert.True(first.ExitCode == 0, first.Stderr);
        await LibvirtDaemons.VirshAsync("detach-disk", domain.Name, "vda", "--config");
        await IoAsync(domain.Vdb, "write -P 0x63 1M 1M");
        await Task.Delay(1100);
        var second = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--quiet");
        Assert.True(second.ExitCode == 0, second.Stderr);
        var vdbNow = await GuestSha256Async(domain.Vdb);
        // And a plain backup of vdb by its file into the same folder: a run without a domain XML, which --domain-out passes over.
        await IoAsync(domain.Vdb, "write -P 0x64 2M 1M");
        await Task.Delay(1100);
        var plain = await CliProcess.RunAsync(_ws, "backup", domain.Vdb, "--format", "qcow2", "--target", _ws["bk"], "--quiet");
        Assert.True(plain.ExitCode == 0, plain.Stderr);

        // Act: the default (the latest run), the same run by vdb's point number, and the first run by vda's.
        var latest = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["latest"]);
        var byVdb = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["by-vdb"], "--point", "1", "--disk", "vdb");
        var vdbLatest = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["vdb-latest"], "--disk", "vdb");
        var firstRun = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["first-run"], "--point", "0");

        // Assert
        Assert.True(latest.ExitCode == 0, latest.Stderr);
        Assert.Equal(vdbNow, await GuestSha256Async(_ws["latest/vdb.qcow2"]));
        Assert.False(File.Exists(_ws["latest/vda.qcow2"]));
        Assert.DoesNotContain("vda", XDocument.Load(_ws["latest/domain.xml"]).Root!.Element("devices")!.Elements("disk").Select(d => d.Element("target")!.Attribute("dev")!.Value));
        Assert.True(byVdb.ExitCode == 0, byVdb.Stderr);
        Assert.Equal(vdbNow, await GuestSha256Async(_ws["by-vdb/vdb.qcow2"]));
        Assert.True(vdbLatest.ExitCode == 0, vdbLatest.Stderr);
        Assert.Equal(vdbNow, await GuestSha256Async(_ws["vdb-latest/vdb.qcow2"]));
        Assert.True(firstRun.ExitCode == 0, firstRun.Stderr);
        Assert.True(File.Exists(_ws["first-run/vda.qcow2"]));
        Assert.NotEqual(vdbNow, await GuestSha256Async(_ws["first-run/vdb.qcow2"]));
    }

    [Fact]
    public async Task Restore_domain_out_refuses_a_run_whose_xml_hands_a_host_lun_through()
    {
        // A lun is a host block device the guest drives itself: it is skipped by the backup, and a restored XML naming it would boot on it.
        await using var domain = await TestDomain.DefineAsync(_ws);
        var xml = XDocument.Parse(await LibvirtDaemons.VirshAsync("dumpxml", "--inactive", domain.Name));
        xml.Root!.Element("devices")!.Add(XElement.Parse("<disk type='block' device='lun'><driver name='qemu' type='raw'/><source dev='/dev/disk/by-id/oe-test-no-such-lun'/><target dev='sdb' bus='scsi'/></disk>"));
        xml.Save(_ws["with-lun.xml"]);
        await LibvirtDaemons.VirshAsync("define", _ws["with-lun.xml"]);
        var backup = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"]);
        Assert.True(backup.ExitCode == 0, backup.Stderr);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["restored"]);

        Assert.Equal(9, code);
        Assert.Contains("sdb that this run did not back up", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["restored/domain.xml"]));
    }

    [Fact]
    public async Task Restore_domain_out_writes_nothing_when_one_output_is_in_the_way()
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        var backup = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--quiet");
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Directory.CreateDirectory(_ws["restored"]);
        await File.WriteAllTextAsync(_ws["restored/vdb.qcow2"], "someone else's file");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["restored"]);

        Assert.Equal(6, code);
        Assert.Contains(_ws["restored/vdb.qcow2"], stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["restored/vda.qcow2"]));
        Assert.False(File.Exists(_ws["restored/domain.xml"]));
        Assert.Equal("someone else's file", await File.ReadAllTextAsync(_ws["restored/vdb.qcow2"]));
    }

    [Fact]
    public async Task Restore_domain_out_of_a_folder_without_domain_xml_says_so()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", _ws["bk"], "--quiet");
        Assert.True(backup.ExitCode == 0, backup.Stderr);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], "--domain-out", _ws["restored"]);

        Assert.Equal(9, code);
        Assert.Contains("has no readable domain XML", stderr, StringComparison.Ordinal);
        Assert.Contains("was it made with backup --domain?", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(".;", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["restored/domain.xml"]));
    }

    [Fact]
    public async Task Shutdown_waits_for_shut_off_backs_up_and_start_runs_the_domain_again()
    {
        // Arrange: a running domain. It has no guest OS to act on the power button, so the test plays the
        // guest: once the backup has asked for the shutdown, the domain is powered off.
        await using var domain = await TestDomain.DefineAsync(_ws);
        await IoAsync(domain.Vda, "write -P 0x51 0 1M");
        await domain.StartAsync();

        // Act
        await using var cli = CliProcess.Start(_ws, ["backup", "--domain", domain.Name, "--shutdown", "--start", "--target", _ws["bk"], "--json", "--verbose"]);
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (!cli.StandardError.Contains(" shutdown -- ", StringComparison.Ordinal))
            {
                await Task.Delay(100, deadline.Token);
            }
        }

        await Task.Delay(1000); // still waiting: a guest takes its time
        Assert.Equal("running", await domain.StateAsync());
        await domain.StopAsync();
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(2));

        // Assert
        Assert.True(code == 0, cli.StandardError);
        var result = JsonDocument.Parse(cli.StandardOutput).RootElement;
        var notes = result.GetProperty("notes").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Contains($"shut down domain {domain.Name}", notes);
        Assert.Contains($"started domain {domain.Name} again", notes);
        Assert.Equal(["vda", "vdb"], result.GetProperty("disks").EnumerateArray().Select(d => d.GetProperty("disk").GetString()));
        Assert.Equal("running", await domain.StateAsync());
        await domain.StopAsync();
    }

    [Fact]
    public async Task A_run_stopped_while_the_guest_powers_off_starts_the_domain_again_and_says_so()
    {
        // The shutdown is the run's from the moment it is asked for: the guest powers off just as the run is stopped.
        await using var domain = await TestDomain.DefineAsync(_ws);
        await domain.StartAsync();
        await using var cli = CliProcess.Start(_ws, ["backup", "--domain", domain.Name, "--shutdown", "--start", "--target", _ws["bk"], "--verbose"]);
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            // The request is made once virsh shutdown has exited: its "run [PID]: … shutdown -- …" line, then "exit [PID]".
            string? exit = null;
            while (exit is null || !cli.StandardError.Contains(exit, StringComparison.Ordinal))
            {
                await Task.Delay(50, deadline.Token);
                var run = cli.StandardError.Split('\n').FirstOrDefault(l => l.Contains(" shutdown -- ", StringComparison.Ordinal));
                var pid = run?[(run.IndexOf("run [", StringComparison.Ordinal) + 4)..];
                exit = pid is null ? null : "exit " + pid[..(pid.IndexOf(']', StringComparison.Ordinal) + 1)];
            }
        }

        await domain.StopAsync(); // the guest powers off, and before the run sees it, the run is stopped
        Signals.Send(cli.Id, Signals.SIGTERM);
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(143, code);
        Assert.True(cli.StandardError.Contains($"offline-export: interrupted by SIGTERM; stopped and cleaned up; started domain {domain.Name} again", StringComparison.Ordinal), cli.StandardError);
        Assert.Equal("running", await domain.StateAsync());
        await domain.StopAsync();
    }

    [Fact]
    public async Task A_ctrl_c_after_the_points_are_recorded_lets_libvirt_register_the_checkpoint()
    {
        // A terminal's Ctrl-C reaches the whole foreground group: virsh, which dies of SIGINT, included. A virsh that
        // takes 3 s to register the checkpoint stands in for a busy libvirtd.
        await using var domain = await TestDomain.DefineAsync(_ws);
        Directory.CreateDirectory(_ws["slow"]);
        var marker = _ws["registering"];
        await File.WriteAllTextAsync(_ws["slow/virsh"], $$"""
            #!/bin/sh
            case " $* " in *" checkpoint-create "*) touch '{{marker}}'; sleep 3;; esac
            exec /usr/bin/virsh "$@"
            """);
        File.SetUnixFileMode(_ws["slow/virsh"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = $"{_ws["slow"]}:{Environment.GetEnvironmentVariable("PATH")}";

        await using var cli = CliProcess.Start(_ws, ["backup", "--domain", domain.Name, "--target", _ws["bk"]], ownSession: true, environment: new Dictionary<string, string> { ["PATH"] = path });
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (!File.Exists(marker))
            {
                await Task.Delay(20, deadline.Token);
            }
        }

        Signals.Send(-cli.Id, Signals.SIGINT);
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(1));

        var checkpoint = OfflineExport.Backup.ManifestStore.Load(_ws["bk"]).Disks[0].CurrentCheckpoint;
        Assert.True(code == 0, cli.StandardError);
        Assert.DoesNotContain("not registered", cli.StandardError, StringComparison.Ordinal);
        Assert.Contains(checkpoint, await domain.CheckpointsAsync());
    }

    [Theory]
    [InlineData("paused")]
    [InlineData("transient")]
    public async Task Shutdown_refuses_a_domain_it_could_not_start_again_before_asking_anything(string kind)
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        await domain.StartAsync();
        if (kind == "paused")
        {
            await LibvirtDaemons.VirshAsync("suspend", domain.Name);
        }
        else
        {
            await LibvirtDaemons.VirshAsync("undefine", domain.Name); // a running domain without its definition: transient
        }

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--shutdown", "--start", "--target", _ws["bk"]);

        Assert.Equal(5, code);
        Assert.StartsWith(kind == "paused"
            ? $"offline-export: error: domain {domain.Name} is paused; --shutdown asks a running guest to power off: resume it"
            : $"offline-export: error: domain {domain.Name} is transient (started with virsh create, no persistent configuration)", stderr.Trim(), StringComparison.Ordinal);
        Assert.Equal(kind == "paused" ? "paused" : "running", await domain.StateAsync());
        Assert.Empty(await BitmapNamesAsync(domain.Vda));
    }

    [Fact]
    public async Task A_shutdown_that_times_out_backs_up_nothing_and_start_leaves_the_domain_running()
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        await domain.StartAsync();

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--shutdown", "--shutdown-timeout", "2", "--start", "--target", _ws["bk"]);

        Assert.Equal(5, code);
        Assert.StartsWith($"offline-export: error: domain {domain.Name} did not shut down within 2 s (it is running); nothing was backed up", stderr.Trim(), StringComparison.Ordinal);
        Assert.EndsWith($"(the request stays: the guest may still power off); domain {domain.Name} was asked to shut down and is still running; should it power off later, start it with virsh -c qemu:///system start {domain.Name}", stderr.Trim(), StringComparison.Ordinal);
        // The folder was made ready (and locked) before the domain was asked to shut down; no point, no manifest.
        Assert.Empty(Directory.GetFiles(_ws["bk"], "*.qcow2*"));
        Assert.False(File.Exists(Path.Combine(_ws["bk"], "manifest.json")));
        Assert.Equal("running", await domain.StateAsync());
        await domain.StopAsync();
        Assert.Empty(await BitmapNamesAsync(domain.Vda));
    }

    [Fact]
    public async Task A_start_during_the_backup_fails_cleanly_and_the_backup_is_whole()
    {
        // Arrange: a raw disk (qemu's read-only open of a raw image does not refuse writers by itself, so
        // only the backup's hold stands in the way), with enough data, copied in small requests one at a
        // time, to leave time for a start.
        await using var domain = await TestDomain.DefineAsync(_ws, vdaFormat: "raw");
        await IoWithFormatAsync(domain.Vda, "raw", "write -P 0x61 0 24M");

        // Act
        await using var cli = CliProcess.Start(_ws, ["backup", "--domain", domain.Name, "--target", _ws["bk"], "--set", "Export:RequestSize=4K", "--set", "Export:MaxInFlight=1"]);
        await cli.FirstProgress.WaitAsync(TimeSpan.FromSeconds(60));
        var start = await LibvirtDaemons.Virsh("start", domain.Name).WithValidation(CliWrap.CommandResultValidation.None).ExecuteBufferedAsync();
        var stateDuring = await domain.StateAsync();
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(3));

        // Assert: the start was refused by the lock, and the backup finished and is exact.
        Assert.NotEqual(0, start.ExitCode);
        // qemu's words: virsh passes them on, or (a race in libvirt) says only that qemu "unexpectedly closed the
        // monitor", and then they are in the domain's qemu log. The whole text when neither has them.
        var refusal = start.StandardError.Contains("Failed to get \"write\" lock", StringComparison.Ordinal)
            ? start.StandardError
            : start.StandardError + await File.ReadAllTextAsync($"/var/log/libvirt/qemu/{domain.Name}.log");
        Assert.True(refusal.Contains("Failed to get \"write\" lock", StringComparison.Ordinal), refusal);
        Assert.Equal("shut off", stateDuring);
        Assert.True(code == 0, cli.StandardError);
        Assert.Equal(0, await CompareAsync(Path.Combine(_ws["bk"], "vda.0.full.qcow2"), domain.Vda, "raw"));
        // Once the backup is over, the domain starts again.
        await domain.StartAsync();
        await domain.StopAsync();
    }

    [Fact]
    public async Task Live_full_then_offline_incremental_on_it_then_live_incremental_on_ours_all_restore_exactly()
    {
        // 1. libvirt's own live full backup of vda, with its checkpoint ck0.
        await using var domain = await TestDomain.DefineAsync(_ws);
        await IoAsync(domain.Vda, "write -P 0x71 0 4M");
        var atFull = await GuestSha256Async(domain.Vda);
        await domain.StartAsync();
        var full = _ws["live-vda.full.qcow2"];
        await File.WriteAllTextAsync(_ws["full.xml"], PushBackupOfVda(full, null));
        await File.WriteAllTextAsync(_ws["ck0.xml"], "<domaincheckpoint><name>ck0</name><disks><disk name='vda' checkpoint='bitmap'/><disk name='vdb' checkpoint='no'/></disks></domaincheckpoint>");
        await LibvirtDaemons.VirshAsync("backup-begin", domain.Name, _ws["full.xml"], _ws["ck0.xml"]);
        await WaitForJobAsync(domain.Name);

        // 2. The VM stops; the disk changes offline (the enabled bitmap ck0 records it).
        await domain.StopAsync();
        await IoAsync(domain.Vda, "write -P 0x72 8M 1M");
        var atOffline = await GuestSha256Async(domain.Vda);

        // 3. Our offline incremental since ck0 over libvirt's backup, in one command.
        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--seed", $"vda={full}", "--since-checkpoint", "ck0", "--json");

        Assert.True(code == 0, stderr);
        var vda = JsonDocument.Parse(stdout).RootElement.GetProperty("disks").EnumerateArray().Single(d => d.GetProperty("disk").GetString() == "vda");
        Assert.Equal((1, "inc"), (vda.GetProperty("point").GetInt32(), vda.GetProperty("level").GetString()));
        Assert.Equal(["ck0"], vda.GetProperty("checkpointsUsed").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(1L << 20, vda.GetProperty("bytesCopied").GetInt64());
        Assert.True(vda.GetProperty("verified").GetBoolean());
        var ours = vda.GetProperty("checkpointCreated").GetString()!;
        Assert.Equal("ck0", await ParentAsync(domain.Name, ours));
        Assert.Contains("ck0", await BitmapNamesAsync(domain.Vda));

        // 4. Another change, the VM starts: libvirt's live incremental from our checkpoint holds only that change.
        await IoAsync(domain.Vda, "write -P 0x73 16M 1M");
        await domain.StartAsync();
        var incremental = _ws["live-vda.inc.qcow2"];
        await File.WriteAllTextAsync(_ws["inc.xml"], PushBackupOfVda(incremental, ours));
        await LibvirtDaemons.VirshAsync("backup-begin", domain.Name, _ws["inc.xml"]);
        await WaitForJobAsync(domain.Name);
        await domain.StopAsync();
        Assert.Equal([(16L << 20, 1L << 20)], (await TopLayerMapAsync(incremental)).Where(e => e.Data).Select(e => (e.Start, e.Length)));

        // 5. Every point restores exactly to the disk at its time.
        foreach (var (point, expected) in new[] { (0, atFull), (1, atOffline) })
        {
            var restored = _ws[$"vda-at-{point}.qcow2"];
            var restore = await CliProcess.RunAsync(_ws, "restore", _ws["bk"], restored, "--disk", "vda", "--point", point.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet");
            Assert.True(restore.ExitCode == 0, restore.Stderr);
            Assert.Equal(expected, await GuestSha256Async(restored));
        }
    }

    [Fact]
    public async Task A_seed_of_another_size_is_refused_and_nothing_is_written()
    {
        await using var domain = await TestDomain.DefineAsync(_ws);
        await AddBitmapAsync(domain.Vda, "live1");
        var wrong = _ws["wrong.qcow2"];
        await CreateQcow2Async(wrong, "8M");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", domain.Name, "--target", _ws["bk"], "--seed", $"vda={wrong}", "--since-checkpoint", "live1");

        Assert.Equal(3, code);
        Assert.Contains($"seed {wrong} is 8388608 bytes but disk vda is 33554432 bytes", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_ws["bk"], "*.qcow2*"));
        Assert.Equal(["live1"], await BitmapNamesAsync(domain.Vda));
    }

    [Fact]
    public async Task A_domain_whose_only_disk_is_a_network_disk_is_refused()
    {
        var name = "oe-test-" + Guid.NewGuid().ToString("N")[..8];
        var xml = _ws[name + ".xml"];
        await File.WriteAllTextAsync(xml, $"""
            <domain type='qemu'>
              <name>{name}</name>
              <memory unit='MiB'>64</memory>
              <os><type arch='x86_64' machine='pc'>hvm</type></os>
              <devices>
                <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='x'><host name='nbd.example' port='10809'/></source><target dev='vda' bus='virtio'/></disk>
              </devices>
            </domain>
            """);
        await LibvirtDaemons.VirshAsync("define", xml);
        try
        {
            var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", name, "--target", _ws["bk"]);

            Assert.Equal(2, code);
            Assert.Equal($"offline-export: error: domain {name} has no file-backed disk to back up", stderr.Trim());
            Assert.False(Directory.Exists(_ws["bk"]));
        }
        finally
        {
            await LibvirtDaemons.VirshAsync("undefine", name);
        }
    }

    [Fact]
    public async Task An_unreachable_libvirtd_is_named_by_its_uri()
    {
        const string uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain", "web1", "--connect", uri, "--target", _ws["bk"]);

        Assert.Equal(7, code);
        Assert.StartsWith($"offline-export: error: cannot reach libvirt at {uri} (is libvirtd running? --connect URI chooses another)", stderr.Trim(), StringComparison.Ordinal);
    }

    /// <summary>A libvirt push backup of vda into <paramref name="target"/> (vdb left out), incremental since <paramref name="incremental"/> or full.</summary>
    private static string PushBackupOfVda(string target, string? incremental) => $"""
        <domainbackup mode='push'>
          {(incremental is null ? string.Empty : $"<incremental>{incremental}</incremental>")}
          <disks>
            <disk name='vda' type='file'><target file='{target}'/><driver type='qcow2'/></disk>
            <disk name='vdb' backup='no'/>
          </disks>
        </domainbackup>
        """;

    private static async Task<string?> ParentAsync(string domain, string checkpoint)
    {
        var result = await LibvirtDaemons.Virsh("checkpoint-dumpxml", "--no-domain", domain, checkpoint).WithValidation(CliWrap.CommandResultValidation.None).ExecuteBufferedAsync();
        return result.ExitCode != 0 ? null : XDocument.Parse(result.StandardOutput).Root!.Element("parent")?.Element("name")?.Value;
    }

    private static async Task WaitForJobAsync(string domain)
    {
        for (var i = 0; i < 300; i++)
        {
            var info = await LibvirtDaemons.VirshAsync("domjobinfo", domain);
            if (info.Contains("Job type:         None", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the backup job of {domain} did not finish");
    }
}
