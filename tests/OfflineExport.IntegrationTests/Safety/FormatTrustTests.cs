using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// A format is never guessed against the caller's word (issue #10): a raw disk whose guest wrote a
/// qcow2 header naming a host file stays raw when --format, the domain XML or the backup folder says
/// raw; qemu guesses only when nobody says, and then the output says it guessed.
/// </summary>
public sealed class FormatTrustTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["bk"];

    /// <summary>A 16 MiB raw disk with guest data at 1 MiB and a forged qcow2 header backed by a random "host secret" at its start.</summary>
    private async Task<(string Disk, string Secret)> ForgedRawDiskAsync()
    {
        var secret = _ws["host-secret.raw"];
        await File.WriteAllBytesAsync(secret, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20));
        var disk = _ws["vda.raw"];
        await ImgAsync("create", "-q", "-f", "raw", disk, "16M");
        await IoWithFormatAsync(disk, "raw", "write -P 0x5a 1M 1M");
        await ImageFaults.ForgeQcow2HeaderAsync(disk, secret);
        return (disk, secret);
    }

    /// <summary>True when a 64 KiB block of <paramref name="secret"/> appears anywhere in what the guest sees in <paramref name="backup"/>.</summary>
    private async Task<bool> ContainsSecretAsync(string backup, string secret)
    {
        var flat = _ws["flat-" + Path.GetFileName(backup) + ".raw"];
        await ImgAsync("convert", "-f", "qcow2", "-O", "raw", backup, flat);
        var needle = (await File.ReadAllBytesAsync(secret)).AsMemory(0, 64 << 10);
        var found = (await File.ReadAllBytesAsync(flat)).AsSpan().IndexOf(needle.Span) >= 0;
        File.Delete(flat);
        return found;
    }

    private string ManifestText() => File.ReadAllText(Path.Combine(Folder, ManifestStore.FileName));

    [Fact]
    public async Task Probing_really_is_fooled_by_the_forged_header()
    {
        // The premise of the tests below, checked on real qemu: without a format, the raw disk reads as a qcow2 backed by the secret.
        var (disk, secret) = await ForgedRawDiskAsync();

        var info = await InfoAsync(disk);

        Assert.Equal("qcow2", info.GetProperty("format").GetString());
        Assert.Equal(secret, info.GetProperty("backing-filename").GetString());
    }

    [Fact]
    public async Task Info_with_format_raw_shows_one_raw_layer_and_no_backing()
    {
        var (disk, _) = await ForgedRawDiskAsync();

        var (code, stdout, _) = await CliProcess.RunAsync(_ws, "info", disk, "--format", "raw", "--json");

        Assert.Equal(0, code);
        var json = JsonDocument.Parse(stdout).RootElement;
        var layer = Assert.Single(json.GetProperty("layers").EnumerateArray());
        Assert.Equal("raw", layer.GetProperty("format").GetString());
        Assert.Equal(JsonValueKind.Null, layer.GetProperty("backingFilename").ValueKind);
        Assert.Equal("raw", json.GetProperty("format").GetString());
        Assert.Equal("stated", json.GetProperty("formatOrigin").GetString());
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Export_with_format_raw_copies_the_raw_disk_byte_for_byte_and_none_of_the_secret()
    {
        var (disk, secret) = await ForgedRawDiskAsync();
        var before = Sha256All(disk, secret);
        var output = _ws["vda.0.qcow2"];

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "export", disk, output, "--format", "raw", "--verify", "--json");

        Assert.True(code == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("raw", json.GetProperty("format").GetString());
        Assert.Equal("stated", json.GetProperty("formatOrigin").GetString());
        Assert.Empty(json.GetProperty("notes").EnumerateArray());
        Assert.DoesNotContain("note:", stderr, StringComparison.Ordinal);
        Assert.Equal(0, await CompareAsync(output, disk, "raw"));
        Assert.False(await ContainsSecretAsync(output, secret));
        Assert.False((await InfoAsync(output)).TryGetProperty("backing-filename", out _));
        Assert.Equal(before, Sha256All(disk, secret));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Raw_disk_a_running_vm_holds_is_refused_with_exit_5_by_export_and_backup()
    {
        // qemu-img info -f raw shares every permission and never sees this writer; the lock bytes do.
        var disk = _ws["vda.raw"];
        await ImgAsync("create", "-q", "-f", "raw", disk, "16M");
        await IoWithFormatAsync(disk, "raw", "write -P 0x5a 1M 1M");
        var before = Sha256(disk);
        await using (var vm = await ImageFaults.HoldReadWriteAsync(disk, "raw"))
        {
            var export = await CliProcess.RunAsync(_ws, "export", disk, _ws["full.qcow2"], "--format", "raw");
            var backup = await CliProcess.RunAsync(_ws, "backup", disk, "--format", "raw", "--target", Folder);

            Assert.Equal(5, export.ExitCode);
            Assert.Contains($"image {disk} is in use by another process", export.Stderr, StringComparison.Ordinal);
            Assert.Equal(5, backup.ExitCode);
            Assert.Contains($"image {disk} is in use by another process", backup.Stderr, StringComparison.Ordinal);
            Assert.Single(_ws.SurvivingQemuProcesses()); // only the "VM"
        }

        Assert.False(File.Exists(_ws["full.qcow2"]));
        Assert.False(File.Exists(Path.Combine(Folder, "vda.0.full.qcow2")));
        Assert.Equal(before, Sha256(disk));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Backup_with_format_raw_makes_a_full_point_adds_no_bitmap_and_records_raw()
    {
        var (disk, secret) = await ForgedRawDiskAsync();
        var before = Sha256All(disk, secret);

        var (code, stdout, _) = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--format", "raw", "--verify", "--json");

        Assert.Equal(0, code);
        var result = JsonDocument.Parse(stdout).RootElement.GetProperty("disks")[0];
        Assert.Equal("full", result.GetProperty("level").GetString());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("checkpointCreated").ValueKind);
        Assert.Equal("raw", result.GetProperty("format").GetString());
        // Same bytes: no bitmap went into the forged header (qemu-img bitmap would have written one there).
        Assert.Equal(before, Sha256All(disk, secret));
        Assert.False((await InfoAsync(disk)).GetProperty("format-specific").GetProperty("data").TryGetProperty("bitmaps", out _));
        var point = Path.Combine(Folder, "vda.0.full.qcow2");
        Assert.Equal(0, await CompareAsync(point, disk, "raw"));
        Assert.False(await ContainsSecretAsync(point, secret));
        Assert.Equal("raw", ManifestStore.LoadExisting(Folder).Disk("vda")!.Format);
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Later_run_without_format_keeps_the_recorded_raw_and_says_qemu_now_detects_qcow2()
    {
        // The disk was recorded raw while it was plain raw; the guest forged the header afterwards.
        var secret = _ws["host-secret.raw"];
        await File.WriteAllBytesAsync(secret, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20));
        var disk = _ws["vda.raw"];
        await ImgAsync("create", "-q", "-f", "raw", disk, "16M");
        await IoWithFormatAsync(disk, "raw", "write -P 0x5a 1M 1M");
        var first = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--quiet");
        await ImageFaults.ForgeQcow2HeaderAsync(disk, secret);
        var before = Sha256All(disk, secret);

        var text = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder);
        var json = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--json");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, text.ExitCode);
        Assert.StartsWith("vda: made point 1 (full: ", text.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("full: full", text.Stdout, StringComparison.Ordinal);
        var warning = $"vda: read as raw, the format the backup folder recorded, although qemu-img now detects qcow2 in {disk}";
        Assert.Contains($"offline-export: warning: {warning}", text.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, json.ExitCode);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.StartsWith(warning, Assert.Single(root.GetProperty("warnings").EnumerateArray()).GetString(), StringComparison.Ordinal);
        Assert.Equal("recorded", root.GetProperty("disks")[0].GetProperty("formatOrigin").GetString());
        Assert.Equal("raw", root.GetProperty("disks")[0].GetProperty("format").GetString());
        Assert.Equal(before, Sha256All(disk, secret));
        Assert.False(await ContainsSecretAsync(Path.Combine(Folder, "vda.2.full.qcow2"), secret));
        Assert.Equal(0, await CompareAsync(Path.Combine(Folder, "vda.2.full.qcow2"), disk, "raw"));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Format_contradicting_the_folders_record_is_refused_with_exit_2_and_changes_nothing()
    {
        var (disk, secret) = await ForgedRawDiskAsync();
        await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--format", "raw", "--quiet");
        var manifest = ManifestText();
        var before = Sha256All(disk, secret);

        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--format", "qcow2");

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(
            [$"offline-export: error: vda: the format given for {disk} (qcow2) contradicts the backup folder, which recorded this disk as raw; a disk keeps one format within a backup folder: state raw, or back the disk up into a new folder"],
            stderr.TrimEnd().Split('\n'));
        Assert.Equal(manifest, ManifestText());
        Assert.Equal(before, Sha256All(disk, secret));
        Assert.False(File.Exists(Path.Combine(Folder, "vda.1.full.qcow2")));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Older_folder_without_recorded_formats_keeps_a_raw_disk_raw_and_fills_the_format_in()
    {
        // A manifest written before formats were recorded: its raw disk's points started no checkpoint.
        var disk = _ws["vda.raw"];
        var secret = _ws["host-secret.raw"];
        await File.WriteAllBytesAsync(secret, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20));
        await ImgAsync("create", "-q", "-f", "raw", disk, "16M");
        await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--format", "raw", "--quiet");
        var old = ManifestStore.LoadExisting(Folder);
        ManifestStore.Save(Folder, old.WithDisk(old.Disks[0] with { Format = null }));
        await ImageFaults.ForgeQcow2HeaderAsync(disk, secret);
        var before = Sha256All(disk, secret);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder, "--quiet");

        Assert.True(code == 0, stderr);
        Assert.Contains("vda: read as raw, the format the backup folder recorded", stderr, StringComparison.Ordinal);
        Assert.Equal(before, Sha256All(disk, secret));
        Assert.Equal("raw", ManifestStore.LoadExisting(Folder).Disk("vda")!.Format);
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Without_format_info_export_and_backup_say_the_format_was_detected()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 1M");

        var info = await CliProcess.RunAsync(_ws, "info", image);
        var infoJson = await CliProcess.RunAsync(_ws, "info", image, "--json");
        var export = await CliProcess.RunAsync(_ws, "export", image, _ws["full.qcow2"]);
        var exportJson = await CliProcess.RunAsync(_ws, "export", image, _ws["full2.qcow2"], "--json");
        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);
        var stated = await CliProcess.RunAsync(_ws, "export", image, _ws["full3.qcow2"], "--format", "qcow2");

        Assert.Equal(0, info.ExitCode);
        Assert.Contains("qcow2 (detected; pass --format to state it)", info.Stdout, StringComparison.Ordinal);
        Assert.Equal("detected", JsonDocument.Parse(infoJson.Stdout).RootElement.GetProperty("formatOrigin").GetString());
        Assert.Equal(0, export.ExitCode);
        Assert.Contains($"offline-export: note: {image}: format qcow2 (detected; pass --format to state it)", export.Stderr, StringComparison.Ordinal);
        var e = JsonDocument.Parse(exportJson.Stdout).RootElement;
        Assert.Equal("detected", e.GetProperty("formatOrigin").GetString());
        Assert.Equal($"{image}: format qcow2 (detected; pass --format to state it)", Assert.Single(e.GetProperty("notes").EnumerateArray()).GetString());
        Assert.Equal(0, backup.ExitCode);
        Assert.Contains("offline-export: note: vda: format qcow2 (detected; pass --format to state it)", backup.Stderr, StringComparison.Ordinal);
        Assert.Equal("qcow2", ManifestStore.LoadExisting(Folder).Disk("vda")!.Format);
        Assert.Equal(0, stated.ExitCode);
        Assert.DoesNotContain("note:", stated.Stderr, StringComparison.Ordinal);
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Domain_xml_driver_type_is_the_format_and_a_missing_one_is_detected_and_said()
    {
        var (raw, secret) = await ForgedRawDiskAsync();
        var vdb = _ws["vdb.qcow2"];
        await CreateQcow2Async(vdb, "8M");
        var before = Sha256All(raw, secret);
        var xml = _ws["web1.xml"];
        await File.WriteAllTextAsync(xml, $"""
            <domain type='kvm'>
              <name>web1</name>
              <devices>
                <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{raw}'/><target dev='vda' bus='virtio'/></disk>
                <disk type='file' device='disk'><driver name='qemu'/><source file='{vdb}'/><target dev='vdb' bus='virtio'/></disk>
              </devices>
            </domain>
            """);

        // --format applies to IMAGE arguments only: the XML's raw disk stays raw although --format says qcow2.
        var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain-xml", xml, "--target", Folder, "--format", "qcow2");

        Assert.True(code == 0, stderr);
        Assert.Contains("vda: made point 0 (full: ", stdout, StringComparison.Ordinal);
        Assert.Contains("offline-export: note: vdb: format qcow2 (detected; pass --format to state it)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("note: vda", stderr, StringComparison.Ordinal);
        Assert.Equal(before, Sha256All(raw, secret));
        Assert.False(await ContainsSecretAsync(Path.Combine(Folder, "vda.0.full.qcow2"), secret));
        var manifest = ManifestStore.LoadExisting(Folder);
        Assert.Equal(["raw", "qcow2"], manifest.Disks.Select(d => d.Format));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Domain_xml_disk_of_an_unsupported_format_refuses_the_backup_with_exit_3()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "8M");
        var before = Sha256(vda);
        var xml = _ws["web1.xml"];
        await File.WriteAllTextAsync(xml, $"""
            <domain type='kvm'><name>web1</name><devices>
              <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{vda}'/><target dev='vda'/></disk>
              <disk type='file' device='disk'><driver name='qemu' type='vmdk'/><source file='{_ws["vdb.vmdk"]}'/><target dev='vdb'/></disk>
            </devices></domain>
            """);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", "--domain-xml", xml, "--target", Folder);

        Assert.Equal(3, code);
        Assert.Contains($"disk vdb of domain XML {xml} is a vmdk image", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Folder));
        Assert.Equal(before, Sha256(vda));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Unsupported_format_option_is_a_usage_error()
    {
        var vda = _ws["vda.qcow2"];
        await CreateQcow2Async(vda, "8M");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", vda, _ws["out.qcow2"], "--format", "vmdk");

        Assert.Equal(2, code);
        Assert.Contains("vmdk", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
    }
}
