using System.Text.Json;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Cli;

/// <summary>backup --domain-xml: the disks of a shut-off libvirt domain, cdroms and network disks skipped.</summary>
public sealed class DomainXmlTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Backup_takes_the_file_disks_of_the_domain_and_skips_the_others()
    {
        var vda = _ws["web1-vda.qcow2"];
        var vdb = _ws["web1-vdb.qcow2"];
        await CreateQcow2Async(vda, "16M");
        await CreateQcow2Async(vdb, "8M");
        await IoAsync(vda, "write -P 0x01 0 1M");
        var xml = _ws["web1.xml"];
        await File.WriteAllTextAsync(xml, $"""
            <domain type='kvm'>
              <name>web1</name>
              <devices>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{vda}'/><target dev='vda' bus='virtio'/></disk>
                <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/debian.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
                <disk type='network' device='disk'><source protocol='nbd' name='x'><host name='nbd.example' port='10809'/></source><target dev='vdc' bus='virtio'/></disk>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{vdb}'/><target dev='vdb' bus='virtio'/></disk>
              </devices>
            </domain>
            """);

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain-xml", xml, "--target", _ws["bk"]);
        var quiet = await CliProcess.RunAsync(_ws, "backup", "--domain-xml", xml, "--target", _ws["bk"], "--quiet", "--json");
        var cron = await CliProcess.RunAsync(_ws, "backup", "--domain-xml", xml, "--target", _ws["bk"], "--quiet");

        Assert.True(code == 0, stderr);
        Assert.Contains("offline-export: note: skipping sda: a cdrom", stderr, StringComparison.Ordinal);
        // A data disk left out is a warning, which --quiet does not silence: cron mails it.
        Assert.Contains("offline-export: warning: skipping vdc: a network disk, not a file", stderr, StringComparison.Ordinal);
        Assert.True(cron.ExitCode == 0, cron.Stderr);
        Assert.Equal(string.Empty, cron.Stdout);
        Assert.Equal("offline-export: warning: skipping vdc: a network disk, not a file", cron.Stderr.Trim());
        // --json carries every skipped disk as a warning.
        Assert.True(quiet.ExitCode == 0, quiet.Stderr);
        Assert.Equal(string.Empty, quiet.Stderr);
        Assert.Contains("skipping sda: a cdrom", JsonDocument.Parse(quiet.Stdout).RootElement.GetProperty("warnings").EnumerateArray().Select(n => n.GetString()));
        Assert.Contains("web1-vda: made point 0", stdout, StringComparison.Ordinal);
        Assert.Contains("web1-vdb: made point 0", stdout, StringComparison.Ordinal);
        var list = await CliProcess.RunAsync(_ws, "list", _ws["bk"], "--json");
        Assert.Equal(["web1-vda", "web1-vdb"], JsonDocument.Parse(list.Stdout).RootElement.GetProperty("disks").EnumerateArray().Select(d => d.GetProperty("disk").GetString()));
    }

    [Fact]
    public async Task Xml_that_is_not_a_domain_is_refused()
    {
        await File.WriteAllTextAsync(_ws["x.xml"], "<network><name>default</name></network>");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain-xml", _ws["x.xml"], "--target", _ws["bk"]);

        Assert.Equal(2, code);
        Assert.Contains("is not a libvirt domain XML", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_ws["bk"]));
    }
}
