using System.Diagnostics;
using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Sources that cannot be read as they claim are refused with exit 3 before anything is written (issue
/// #10): FIFOs and devices other than block devices, encrypted qcow2 layers, and qcow2 layers whose
/// tables point past the end of the file, which would otherwise export as zeros "verified identical".
/// </summary>
public sealed class SourceIntegrityTests : IDisposable
{
    /// <summary>A refusal of a FIFO or a device involves no qemu process: it takes the program's start-up, no more.</summary>
    private static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(3);

    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["bk"];

    /// <summary>A 16 MiB qcow2 with 4 MiB of data (64 KiB clusters: header, refcounts, L1 and L2 in the first 320 KiB).</summary>
    private async Task<string> ImageWithDataAsync(string name = "vda.qcow2")
    {
        var image = _ws[name];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x5a 0 4M");
        return image;
    }

    // ----- FIFOs and character devices -----

    [Theory]
    [InlineData("fifo", "a named pipe (FIFO)")]
    [InlineData("/dev/null", "a character device")]
    public async Task Fifo_or_character_device_as_image_exits_3_at_once_for_every_verb(string kind, string what)
    {
        var image = kind == "fifo" ? _ws["vda.qcow2"] : kind;
        if (kind == "fifo")
        {
            await MakeFifoAsync(image);
        }

        string[][] runs =
        [
            ["info", image],
            ["export", image, _ws["out.qcow2"]],
            ["export", image, _ws["out.qcow2"], "--format", "raw"],
            ["backup", image, "--target", Folder],
        ];
        foreach (var args in runs)
        {
            var clock = Stopwatch.StartNew();
            var (code, stdout, stderr) = await CliProcess.RunAsync(_ws, args);

            Assert.Equal(3, code);
            Assert.True(clock.Elapsed < AtOnce, $"{args[0]} took {clock.Elapsed}");
            Assert.Equal(string.Empty, stdout);
            Assert.Equal([$"offline-export: error: image {image} is {what}, not a disk image; give a regular file or a block device"], stderr.TrimEnd().Split('\n'));
        }

        Assert.False(File.Exists(_ws["out.qcow2"]));
        Assert.False(File.Exists(Path.Combine(Folder, ManifestStore.FileName)));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Fifo_as_previous_backup_exits_3_at_once()
    {
        var image = await ImageWithDataAsync();
        await AddBitmapAsync(image, "ck");
        var previous = _ws["prev.qcow2"];
        await MakeFifoAsync(previous);
        var before = Sha256(image);
        var clock = Stopwatch.StartNew();

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["inc.qcow2"], "--bitmap", "ck", "--backing", previous);

        Assert.Equal(3, code);
        Assert.True(clock.Elapsed < AtOnce, $"took {clock.Elapsed}");
        Assert.Contains($"previous backup {previous} is a named pipe (FIFO), not a disk image", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    // ----- encrypted qcow2 -----

    private async Task<string> EncryptedImageAsync(string name = "enc.qcow2", string? backing = null)
    {
        var image = _ws[name];
        // A short iter-time keeps the test fast; below ~100 ms qemu-img sometimes fails ("Unable to get accurate CPU usage").
        List<string> args = ["create", "-q", "-f", "qcow2", "--object", "secret,id=s0,data=abc", "-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=100"];
        if (backing is not null)
        {
            args.AddRange(["-b", backing, "-F", "qcow2"]);
        }

        args.AddRange([image, "16M"]);
        // qemu-img times its key derivation by CPU usage, which a busy machine sometimes makes it misread.
        for (var attempt = 1; ; attempt++)
        {
            var result = await ImgUncheckedAsync([.. args]);
            if (result.ExitCode == 0)
            {
                return image;
            }

            Assert.True(attempt < 5 && result.StandardError.Contains("Unable to get accurate CPU usage", StringComparison.Ordinal), result.StandardError);
        }
    }

    [Fact]
    public async Task Encrypted_qcow2_is_refused_by_export_and_backup_with_exit_3_and_shown_by_info()
    {
        var image = await EncryptedImageAsync();
        var before = Sha256(image);
        var sentence = $"{image} is encrypted (LUKS); offline-export cannot read encrypted images";

        var export = await CliProcess.RunAsync(_ws, "export", image, _ws["out.qcow2"]);
        var stated = await CliProcess.RunAsync(_ws, "export", image, _ws["out.qcow2"], "--format", "qcow2");
        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);
        var info = await CliProcess.RunAsync(_ws, "info", image, "--json");

        Assert.Equal(3, export.ExitCode);
        Assert.Equal([$"offline-export: error: {sentence}"], export.Stderr.TrimEnd().Split('\n'));
        Assert.Equal(3, stated.ExitCode);
        Assert.Contains(sentence, stated.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, backup.ExitCode);
        Assert.Contains(sentence, backup.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, info.ExitCode);
        Assert.Equal(sentence, JsonDocument.Parse(info.Stdout).RootElement.GetProperty("chainProblem").GetString());
        Assert.Empty(await BitmapNamesAsync(image));
        Assert.Equal(before, Sha256(image));
        Assert.False(File.Exists(_ws["out.qcow2"]));
        Assert.False(File.Exists(Path.Combine(Folder, ManifestStore.FileName)));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Encrypted_backing_layer_is_refused_naming_it()
    {
        var base_ = await EncryptedImageAsync("base.qcow2");
        var top = _ws["top.qcow2"];
        await CreateOverlayAsync(top, base_);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = top, Format = "qcow2", Output = _ws["out.qcow2"] }, top, base_);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Equal($"{base_} is encrypted (LUKS); offline-export cannot read encrypted images", error.Message);
    }

    // ----- damaged qcow2 -----

    [Theory]
    [InlineData("truncated")]
    [InlineData("l2-past-the-end")]
    public async Task Damaged_qcow2_export_is_refused_with_the_finding_before_anything_is_written(string damage)
    {
        var image = await ImageWithDataAsync();
        if (damage == "truncated")
        {
            ImageFaults.Truncate(image, 320 << 10); // keeps header, refcounts, L1 and L2; cuts every data cluster
        }
        else
        {
            ImageFaults.PointFirstL2EntryPastTheEnd(image);
        }

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = image, Format = "qcow2", Output = _ws["out.qcow2"], Verify = true }, image);
        var dryRun = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = image, Output = _ws["out.qcow2"], DryRun = true }, image);
        var before = Sha256(image);
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["out.qcow2"]);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.StartsWith($"{image} is damaged (qemu-img check found ", error.Message, StringComparison.Ordinal);
        Assert.Contains("ERROR: counting reference for region exceeding the end of the file", error.Message, StringComparison.Ordinal);
        Assert.Equal(error.Message, dryRun.Message);
        Assert.Equal(3, code);
        Assert.Equal([$"offline-export: error: {error.Message}"], stderr.TrimEnd().Split('\n'));
        Assert.Equal(before, Sha256(image));
        Assert.False(File.Exists(_ws["out.qcow2"]));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Damaged_backing_layer_is_refused_naming_it()
    {
        var base_ = await ImageWithDataAsync("base.qcow2");
        var top = _ws["top.qcow2"];
        await CreateOverlayAsync(top, base_);
        await IoAsync(top, "write -P 0x11 8M 64K");
        ImageFaults.PointFirstL2EntryPastTheEnd(base_);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = top, Format = "qcow2", Output = _ws["out.qcow2"] }, top, base_);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.StartsWith($"{base_} is damaged", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Image_with_only_leaked_clusters_still_exports()
    {
        var image = await ImageWithDataAsync();
        // Drop the only L2 reference to a data cluster: the cluster leaks, the guest reads zeros there, nothing points past the end.
        ImageFaults.LeakFirstDataCluster(image);
        Assert.Equal(3, await CheckAsync(image));

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Format = "qcow2", Output = _ws["out.qcow2"], Verify = true }, image);

        Assert.True(result.Verified);
    }

    [Fact]
    public async Task Truncated_disk_first_backup_is_refused_adding_no_checkpoint_and_no_point()
    {
        var image = await ImageWithDataAsync();
        ImageFaults.Truncate(image, 320 << 10);
        var before = Sha256(image);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);

        Assert.Equal(3, code);
        Assert.Equal([$"offline-export: error: {image} is damaged (qemu-img check found 64 corruptions: ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x50000 size 0x10000); it cannot be backed up as it is: inspect it with 'qemu-img check -f qcow2 {image}'"],
            stderr.TrimEnd().Split('\n'));
        Assert.Empty(await BitmapNamesAsync(image));
        Assert.Equal(before, Sha256(image));
        Assert.False(File.Exists(Path.Combine(Folder, ManifestStore.FileName)));
        Assert.Empty(Directory.GetFiles(Folder, "*.qcow2*"));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Damaged_disk_later_backup_is_refused_adding_no_checkpoint_and_leaving_the_folder_as_it_was()
    {
        var image = await ImageWithDataAsync();
        var first = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2", "--quiet");
        Assert.Equal(0, first.ExitCode);
        var bitmaps = await BitmapNamesAsync(image);
        var folder = Directory.GetFiles(Folder).Order().Select(f => (f, Sha256(f))).ToList();
        ImageFaults.PointFirstL2EntryPastTheEnd(image);
        var before = Sha256(image);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);

        Assert.Equal(3, code);
        Assert.StartsWith($"offline-export: error: {image} is damaged (qemu-img check found ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Single(bitmaps);
        Assert.Equal(bitmaps, await BitmapNamesAsync(image));
        Assert.Equal(before, Sha256(image));
        Assert.Equal(folder, Directory.GetFiles(Folder).Order().Select(f => (f, Sha256(f))).ToList());
        _ws.AssertNothingLeftBehind();
    }
}
