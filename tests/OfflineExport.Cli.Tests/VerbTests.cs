using System.Text.Json.Nodes;
using OfflineExport.Backup;
using OfflineExport.Cli.Commands;

namespace OfflineExport.Cli.Tests;

/// <summary>Verbs called as plain functions, without the parser: what they refuse before any qemu runs, and what they print.</summary>
public sealed class VerbTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("oe-verbs-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Backup_without_images_or_domain_is_a_usage_error()
    {
        var console = new TestConsole();

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            BackupCommand.RunAsync(new BackupArguments(new BackupRequest { Target = _folder }, Json: false), console.Context(), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Equal("give the images to back up, or --domain NAME, or --domain-xml FILE", error.Message);
    }

    [Fact]
    public async Task Backup_of_a_domain_with_no_file_disk_says_so()
    {
        var xml = Path.Combine(_folder, "web1.xml");
        await File.WriteAllTextAsync(xml, """
            <domain type='kvm'><name>web1</name><devices>
              <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/debian.iso'/><target dev='sda' bus='sata'/></disk>
            </devices></domain>
            """);
        var console = new TestConsole();

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            BackupCommand.RunAsync(new BackupArguments(new BackupRequest { Target = Path.Combine(_folder, "b"), DomainXml = xml }, Json: false), console.Context(), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Equal($"domain XML {xml} has no file-backed disk to back up", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_folder, "b")));
    }

    [Fact]
    public async Task Backup_with_keep_checkpoints_zero_is_refused()
    {
        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            BackupCommand.RunAsync(new BackupArguments(new BackupRequest { Images = ["/vm/vda.qcow2"], Target = _folder, KeepCheckpoints = 0 }, Json: false), new TestConsole().Context(), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.StartsWith("--keep-checkpoints must be at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_prints_each_disk_and_point()
    {
        ManifestStore.Save(_folder, Manifest());
        var console = new TestConsole();

        var code = await ListCommand.RunAsync(new ListArguments(_folder, Json: false), console.Context());

        var text = console.Out.ToString();
        Assert.Equal(0, code);
        Assert.Contains($"Backup folder {_folder}", text, StringComparison.Ordinal);
        Assert.Contains("vda", text, StringComparison.Ordinal);
        Assert.Contains(text.Split('\n'), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1", "inc", "point", "0", ..]);
        Assert.DoesNotContain("ck0", text, StringComparison.Ordinal); // checkpoint names: --verbose
        Assert.All(text.Split('\n'), l => Assert.True(l.TrimEnd().Length <= 80, l));
    }

    [Fact]
    public async Task List_verbose_adds_files_and_full_checkpoint_names()
    {
        ManifestStore.Save(_folder, Manifest());
        var console = new TestConsole();

        await ListCommand.RunAsync(new ListArguments(_folder, Json: false), console.Context(verbose: true));

        var text = console.Out.ToString();
        Assert.Contains("current checkpoint: ", text, StringComparison.Ordinal);
        Assert.Contains("vda.1.inc.qcow2", text, StringComparison.Ordinal);
        Assert.Contains("ck0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_json_names_the_folder_and_its_points()
    {
        ManifestStore.Save(_folder, Manifest());
        var console = new TestConsole();

        await ListCommand.RunAsync(new ListArguments(_folder, Json: true), console.Context());

        var json = JsonNode.Parse(console.Out.ToString())!;
        Assert.Equal(_folder, (string?)json["folder"]);
        Assert.Equal([0, 1], json["disks"]![0]!["points"]!.AsArray().Select(p => (int)p!["number"]!));
        Assert.Equal("vda", (string?)json["disks"]![0]!["disk"]); // the key every verb's JSON names a disk by
        Assert.Null(json["disks"]![0]!["name"]);
    }

    [Fact]
    public async Task List_of_a_folder_without_a_manifest_is_a_folder_problem()
    {
        var error = await Assert.ThrowsAsync<OfflineExportException>(() => ListCommand.RunAsync(new ListArguments(Path.Combine(_folder, "none"), Json: false), new TestConsole().Context()));

        Assert.Equal(ErrorKind.BackupFolderProblem, error.Kind);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("/tmp/out.qcow2", "/tmp/dir", null)]
    public async Task Restore_takes_one_output_or_a_domain_folder(string? output, string? domainOut, string? disk)
    {
        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            RestoreCommand.RunAsync(new RestoreArguments(_folder, output, domainOut, null, disk, false, false), new TestConsole().Context(), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
    }

    [Theory]
    [InlineData(false, true, false, "--start needs --shutdown")]
    [InlineData(true, false, true, "--shutdown does not go with --dry-run")]
    public async Task Backup_power_options_that_do_not_go_together_are_refused_before_libvirt_is_asked(bool shutdown, bool start, bool dryRun, string expected)
    {
        var request = new BackupRequest { Target = _folder, Domain = "web1", Connect = "test:///nowhere", Shutdown = shutdown, Start = start, DryRun = dryRun };

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            BackupCommand.RunAsync(new BackupArguments(request, Json: false), new TestConsole().Context(), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    private static BackupManifest Manifest() => new()
    {
        Disks =
        [
            new DiskRecord
            {
                Name = "vda",
                Source = "/vm/vda.qcow2",
                VirtualSize = 1 << 30,
                CurrentCheckpoint = "ck1",
                Points =
                [
                    new PointRecord { Number = 0, File = "vda.0.full.qcow2", Level = PointLevel.Full, CheckpointCreated = "ck0", Source = "/vm/vda.qcow2", VirtualSize = 1 << 30, ToolVersion = "offline-export 0.1.0" },
                    new PointRecord { Number = 1, File = "vda.1.inc.qcow2", Level = PointLevel.Inc, BackingPoint = 0, CheckpointsUsed = ["ck0"], CheckpointCreated = "ck1", Source = "/vm/vda.qcow2", VirtualSize = 1 << 30, ToolVersion = "offline-export 0.1.0" },
                ],
            },
        ],
    };
}
