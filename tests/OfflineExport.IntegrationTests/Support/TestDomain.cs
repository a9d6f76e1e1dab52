namespace OfflineExport.IntegrationTests.Support;

/// <summary>
/// A libvirt domain defined for one test: no guest OS (it needs none to run and hold its disks), KVM or TCG, two disks (vda: qcow2 or raw, vdb: qcow2) and an empty cdrom. Disposing it stops and undefines it,
/// with its checkpoints' metadata.
/// </summary>
public sealed class TestDomain : IAsyncDisposable
{
    private TestDomain(string name, string vda, string vdb)
    {
        Name = name;
        Vda = vda;
        Vdb = vdb;
    }

    public string Name { get; }

    public string Vda { get; }

    public string Vdb { get; }

    public static async Task<TestDomain> DefineAsync(TestWorkspace workspace, string vdaFormat = "qcow2")
    {
        // The domain's qemu runs as libvirt-qemu: the folder must let it through.
        File.SetUnixFileMode(workspace.Root, (UnixFileMode)0b111_101_101);
        var name = "oe-test-" + Guid.NewGuid().ToString("N")[..8];
        var vda = workspace["vda." + vdaFormat];
        var vdb = workspace["vdb.qcow2"];
        if (vdaFormat == "raw")
        {
            await QemuTestTools.ImgAsync("create", "-q", "-f", "raw", vda, "32M");
        }
        else
        {
            await QemuTestTools.CreateQcow2Async(vda, "32M");
        }

        await QemuTestTools.CreateQcow2Async(vdb, "16M");
        var xml = workspace[name + ".xml"];
        // KVM when the machine has it (a start takes 0.9 s instead of TCG's 4.4 s, measured), TCG otherwise.
        var type = File.Exists("/dev/kvm") ? "kvm" : "qemu";
        await File.WriteAllTextAsync(xml, $"""
            <domain type='{type}'>
              <name>{name}</name>
              <memory unit='MiB'>64</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type></os>
              <devices>
                <disk type='file' device='disk'><driver name='qemu' type='{vdaFormat}'/><source file='{vda}'/><target dev='vda' bus='virtio'/></disk>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{vdb}'/><target dev='vdb' bus='virtio'/></disk>
                <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/></disk>
              </devices>
            </domain>
            """);
        await LibvirtDaemons.VirshAsync("define", xml);
        return new TestDomain(name, vda, vdb);
    }

    public Task StartAsync() => LibvirtDaemons.VirshAsync("start", Name);

    /// <summary>Pulls the plug (no guest to shut down politely); the disks' bitmaps are written as qemu closes them.</summary>
    public Task StopAsync() => LibvirtDaemons.VirshAsync("destroy", Name);

    public async Task<string> StateAsync() => (await LibvirtDaemons.VirshAsync("domstate", Name)).Trim();

    public async Task<IReadOnlyList<string>> CheckpointsAsync() =>
        (await LibvirtDaemons.VirshAsync("checkpoint-list", "--name", Name)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public async ValueTask DisposeAsync()
    {
        await LibvirtDaemons.Virsh("destroy", Name).WithValidation(CliWrap.CommandResultValidation.None).ExecuteAsync();
        await LibvirtDaemons.Virsh("undefine", "--checkpoints-metadata", Name).WithValidation(CliWrap.CommandResultValidation.None).ExecuteAsync();
    }
}
