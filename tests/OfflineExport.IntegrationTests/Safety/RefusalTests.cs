using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Bad input is refused before anything is written: one clear message naming what is at fault, no
/// OUTPUT, no partial file, no daemon, and the source unchanged (checked by <see cref="ExportHarness"/>).
/// </summary>
public sealed class RefusalTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private ExportRequest Incremental(string image, params string[] bitmaps) => new()
    {
        Image = image, Output = _ws["inc.qcow2"], Bitmaps = bitmaps, Backing = _ws["prev.qcow2"],
    };

    private async Task<string> ImageWithPreviousAsync(string name = "vda.qcow2", string size = "16M")
    {
        var image = _ws[name];
        await CreateQcow2Async(image, size);
        await IoAsync(image, "write -P 0x01 0 1M");
        await CreateQcow2Async(_ws["prev.qcow2"], size);
        return image;
    }

    [Fact]
    public async Task Missing_bitmap_is_named_with_the_bitmaps_the_top_layer_has()
    {
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "monday");
        await AddBitmapAsync(image, "tuesday");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(image, "sunday"), image);

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.Equal($"bitmap 'sunday' not found in {image}; available: monday, tuesday", error.Message);
    }

    [Fact]
    public async Task Gap_in_the_chain_names_the_middle_layer()
    {
        var base_ = _ws["base.qcow2"];
        var mid = _ws["mid.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "16M");
        await AddBitmapAsync(base_, "ck");
        await CreateOverlayAsync(mid, base_);
        await CreateOverlayAsync(top, mid);
        await AddBitmapAsync(top, "ck");
        await CreateQcow2Async(_ws["prev.qcow2"], "16M");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(top, "ck") with { Format = "qcow2" }, top, mid, base_);

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.StartsWith($"bitmap 'ck' is missing from {mid} but present in {base_}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_use_bitmap_left_by_a_killed_process_is_refused_with_advice()
    {
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");
        await ImageFaults.LeaveBitmapsInUseAsync(image);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(image, "ck"), image);

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.Contains($"bitmap 'ck' in {image} is inconsistent (in-use)", error.Message, StringComparison.Ordinal);
        Assert.Contains("take a full export", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_bitmap_is_refused_naming_the_layer()
    {
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");
        await ImgAsync("bitmap", "--disable", image, "ck");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(image, "ck"), image);

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.Contains($"bitmap 'ck' in {image} is disabled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bitmap_in_a_layer_of_another_virtual_size_is_refused_with_both_sizes()
    {
        var base_ = _ws["base.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "16M");
        await AddBitmapAsync(base_, "ck");
        // The disk was grown when the overlay was made: the base's bitmap covers only 16 MiB.
        await ImgAsync("create", "-q", "-f", "qcow2", "-b", base_, "-F", "qcow2", top, "32M");
        await AddBitmapAsync(top, "ck");
        await CreateQcow2Async(_ws["prev.qcow2"], "32M");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(top, "ck") with { Format = "qcow2" }, top, base_);

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.Contains($"bitmap 'ck' in {base_} covers 16777216 bytes but the disk is 33554432 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lower_layer_of_the_previous_backup_held_by_a_writer_is_the_file_named()
    {
        // Arrange: the previous backup is an overlay over a base some process holds open for writing.
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");
        var (previousBase, previous) = (_ws["prev.qcow2"], _ws["prev-top.qcow2"]);
        await CreateOverlayAsync(previous, previousBase);
        var before = Sha256(previousBase);
        await using (var writer = await ImageFaults.HoldReadWriteAsync(previousBase))
        {
            using var cts = new CancellationTokenSource(ExportHarness.Deadline);

            // Act
            var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
                new ExportSession(_ws.Options).RunAsync(Incremental(image, "ck") with { Format = "qcow2", Backing = previous }, null, cts.Token));

            // Assert: the held file, not the disk, which nobody holds.
            Assert.Equal(ErrorKind.ImageInUse, error.Kind);
            Assert.Contains($"image {previousBase} is in use by another process", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(image, error.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(previousBase));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Image_held_by_a_running_process_is_refused_before_any_work()
    {
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");
        var before = Sha256(_ws["prev.qcow2"]);
        await using (var vm = await ImageFaults.HoldReadWriteAsync(image))
        {
            using var cts = new CancellationTokenSource(ExportHarness.Deadline);
            var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
                new ExportSession(_ws.Options).RunAsync(Incremental(image, "ck"), null, cts.Token));

            Assert.Equal(ErrorKind.ImageInUse, error.Kind);
            Assert.Contains($"image {image} is in use by another process", error.Message, StringComparison.Ordinal);
            Assert.Contains("shut it down", error.Message, StringComparison.Ordinal);
            Assert.Single(_ws.SurvivingQemuProcesses()); // only the "VM"
        }

        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(_ws["prev.qcow2"]));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Missing_backing_is_refused()
    {
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(image, "ck") with { Backing = null }, image);

        Assert.Equal(ErrorKind.InvalidRequest, error.Kind);
        Assert.Contains("--backing PREVIOUS is required with --bitmap", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("absent", "does not exist")]
    [InlineData("text", "must be a qcow2")]
    [InlineData("smaller", "is 8388608 bytes but the disk is 16777216 bytes")]
    public async Task Bad_previous_backup_is_refused(string kind, string expected)
    {
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");
        var previous = _ws["bad-prev.qcow2"];
        switch (kind)
        {
            case "text":
                await File.WriteAllTextAsync(previous, new string('x', 4096));
                break;
            case "smaller":
                await CreateQcow2Async(previous, "8M");
                break;
        }

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(image, "ck") with { Backing = previous }, image);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Contains(previous, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_image_is_refused_with_its_path()
    {
        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = _ws["nope.qcow2"], Output = _ws["out.qcow2"] });

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Equal($"image {_ws["nope.qcow2"]} does not exist", error.Message);
    }

    [Fact]
    public async Task Folder_as_image_is_refused()
    {
        var folder = Directory.CreateDirectory(_ws["vm"]).FullName;

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = folder, Output = _ws["out.qcow2"] });

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Contains("is a folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_that_is_not_a_disk_image_is_refused()
    {
        var notes = _ws["notes.txt"];
        await File.WriteAllTextAsync(notes, "shopping list\n");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = notes, Output = _ws["out.qcow2"] }, notes);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Equal($"{notes} is not a disk image (not qcow2, and its size is not a multiple of 512 bytes)", error.Message);
    }

    [Fact]
    public async Task Corrupt_qcow2_is_refused_with_its_path()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        ImageFaults.MarkCorrupt(image);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = image, Output = _ws["out.qcow2"] }, image);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Contains($"{image} is marked corrupt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_image_with_a_bitmap_is_refused_but_exports_in_full()
    {
        var image = _ws["vda.raw"];
        await ImgAsync("create", "-q", "-f", "raw", image, "16M");
        await CreateQcow2Async(_ws["prev.qcow2"], "16M");

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, Incremental(image, "ck"), image);
        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.Contains("is a raw image, which cannot hold checkpoints", error.Message, StringComparison.Ordinal);

        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image, "raw"));
    }

    [Fact]
    public async Task Json_pseudo_protocol_backing_name_is_refused()
    {
        var base_ = _ws["base.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "16M");
        await CreateOverlayAsync(top, base_);
        await ImgAsync("rebase", "-u", "-F", "qcow2", "-b", $"json:{{\"driver\":\"qcow2\",\"file\":{{\"driver\":\"file\",\"filename\":\"{base_}\"}}}}", top);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = top, Output = _ws["out.qcow2"], Format = "qcow2" }, top, base_);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Contains("json: pseudo-protocol", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_raw_disk_whose_guest_wrote_a_qcow2_header_naming_a_host_file_is_refused_unless_its_format_is_stated()
    {
        // The guest's raw disk starts with a qcow2 header whose backing file is a host file it wants to read.
        var disk = _ws["guest.img"];
        var secret = await ImageFaults.RawDiskDressedAsQcow2Async(disk, host => ["-b", host, "-F", "raw"]);

        var refused = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = disk, Output = _ws["out.qcow2"] }, disk, secret);
        var stated = await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = disk, Output = _ws["raw-out.qcow2"], Format = "raw" }, disk, secret);

        Assert.Equal(ErrorKind.InvalidImage, refused.Kind);
        Assert.StartsWith($"{disk} looks like a qcow2 with backing file '{secret}', but its format was detected, not stated", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
        // Stated raw, the header is the guest's data and nothing else is read.
        Assert.Equal("raw", stated.Format);
        Assert.Equal(0, await CompareAsync(_ws["raw-out.qcow2"], disk, "raw"));
    }

    [Fact]
    public async Task A_raw_disk_whose_guest_wrote_a_qcow2_header_with_an_external_data_file_is_refused_unless_stated()
    {
        // The same trick with qcow2's external data file: its clusters would be read from that host file.
        var disk = _ws["guest.img"];
        var dataFile = _ws["host-data.raw"];
        await ImageFaults.RawDiskDressedAsQcow2Async(disk, _ => ["-o", $"data_file={dataFile}"]);

        var refused = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = disk, Output = _ws["out.qcow2"] }, disk);

        Assert.Equal(ErrorKind.InvalidImage, refused.Kind);
        Assert.StartsWith($"{disk} looks like a qcow2 with an external data file, but its format was detected, not stated", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
    }

    [Theory]
    [InlineData("backing")]
    [InlineData("data file")]
    [InlineData("vmdk")]
    [InlineData("qed")]
    public async Task A_guest_written_header_is_refused_before_qemu_opens_anything_it_names(string named)
    {
        // The header names a FIFO: qemu-img info would wait for a writer until the stall timeout (and a device would be opened).
        var disk = _ws["guest.img"];
        var fifo = _ws["host-fifo"];
        await MakeFifoAsync(fifo);
        switch (named)
        {
            case "backing":
                await ImageFaults.RawDiskDressedAsQcow2Async(disk, _ => ["-u", "-b", fifo, "-F", "raw"]);
                break;
            case "data file":
                await ImageFaults.RawDiskDressedAsQcow2Async(disk, _ => ["-o", $"data_file={_ws["host-data.raw"]}"]);
                File.Delete(_ws["host-data.raw"]); // qemu-img create made it a file; the header names a FIFO now
                File.Move(fifo, _ws["host-data.raw"]);
                break;
            case "vmdk":
                await File.WriteAllTextAsync(disk, $"# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\nRW 2048 FLAT \"{fifo}\" 0\n");
                break;
            default:
                var header = _ws["qed-header.img"];
                await ImgAsync("create", "-q", "-f", "qed", "-u", "-b", fifo, "-F", "raw", header, "16M");
                await File.WriteAllBytesAsync(disk, [.. File.ReadAllBytes(header), .. new byte[1 << 20]]);
                File.Delete(header);
                break;
        }

        var runs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var options = _ws.Options with { Log = runs.Enqueue };

        // Act
        var refused = await ExportHarness.ExportFailsWithAsync<OfflineExportException>(_ws, options, new ExportRequest { Image = disk, Output = _ws["out.qcow2"] }, disk);
        var (backupCode, _, backupError) = await CliProcess.RunAsync(_ws, "backup", disk, "--target", _ws["bk"], "--verbose");

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, refused.Kind);
        var expected = named switch
        {
            "backing" => $"{disk} looks like a qcow2 with backing file '{fifo}', but its format was detected",
            "data file" => $"{disk} looks like a qcow2 with an external data file, but its format was detected",
            _ => $"{disk} looks like a {named} image, but its format was detected, not stated: offline-export reads raw and qcow2 only",
        };
        Assert.StartsWith(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(runs, line => line.Contains("qemu-img", StringComparison.Ordinal));
        Assert.Equal(3, backupCode);
        Assert.Contains(expected, backupError, StringComparison.Ordinal);
        Assert.DoesNotContain("qemu-img", backupError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_reads_a_raw_disk_as_raw_when_told_whatever_header_its_guest_wrote()
    {
        // A raw disk that begins with a VMDK descriptor naming a FIFO: probed, qemu-img would wait on the FIFO.
        var disk = _ws["guest.img"];
        var fifo = _ws["host-fifo"];
        await MakeFifoAsync(fifo);
        var descriptor = System.Text.Encoding.ASCII.GetBytes($"# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\nRW 2048 FLAT \"{fifo}\" 0\n");
        await File.WriteAllBytesAsync(disk, [.. descriptor, .. new byte[(16 << 20) - descriptor.Length]]);
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = disk, Format = "raw", Output = _ws["full.qcow2"] }, disk);
        await IoWithFormatAsync(disk, "raw", "write -P 0x33 8M 64k");

        // Act
        var identical = await CliProcess.RunAsync(_ws, "verify", _ws["full.qcow2"], _ws["full.qcow2"], "--format", "qcow2");
        var different = await CliProcess.RunAsync(_ws, "verify", disk, _ws["full.qcow2"], "--format", "raw");

        // Assert: read as raw, never probed; the guest's write since the export is seen.
        Assert.Equal(0, identical.ExitCode);
        Assert.Equal(1, different.ExitCode);
        Assert.StartsWith("different: ", different.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unrecorded_backing_format_is_refused_and_never_probed()
    {
        var base_ = _ws["base.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "16M");
        await CreateOverlayAsync(top, base_);
        ImageFaults.ForgetBackingFormat(top);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = top, Output = _ws["out.qcow2"], Format = "qcow2" }, top, base_);

        Assert.Equal(ErrorKind.InvalidImage, error.Kind);
        Assert.Contains($"{top}: the format of its backing file {base_} is not recorded", error.Message, StringComparison.Ordinal);
        Assert.Contains("qemu-img rebase -u", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("qemu-img", "qemu-utils")]
    [InlineData("qemu-storage-daemon", "qemu-system-common")]
    public async Task Missing_qemu_program_names_the_debian_package(string program, string package)
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        var tools = program == "qemu-img" ? new QemuTools(QemuImg: "/nonexistent/qemu-img") : new QemuTools(StorageDaemon: "no-such-qemu-storage-daemon");
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new ExportSession(_ws.Options with { Tools = tools }).RunAsync(new ExportRequest { Image = image, Output = _ws["out.qcow2"] }, null, cts.Token));

        Assert.Equal(ErrorKind.ToolMissing, error.Kind);
        Assert.Contains($"install the Debian package {package} (apt-get install {package})", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
    }

    [Fact]
    public async Task Qemu_program_that_is_not_executable_is_refused()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        var fake = _ws["qemu-img"];
        await File.WriteAllTextAsync(fake, "#!/bin/sh\n");
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new ExportSession(_ws.Options with { Tools = new QemuTools(QemuImg: fake) }).RunAsync(new ExportRequest { Image = image, Output = _ws["out.qcow2"] }, null, cts.Token));

        Assert.Equal(ErrorKind.ToolMissing, error.Kind);
        Assert.Contains("is not executable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_inside_the_source_chain_is_refused_even_with_force()
    {
        var base_ = _ws["base.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "8M");
        await CreateOverlayAsync(top, base_);

        var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = top, Output = base_, Force = true, Format = "qcow2" }, top, base_);

        Assert.Equal(ErrorKind.OutputProblem, error.Kind);
        Assert.Contains("is part of the source chain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusal_stops_a_daemon_still_starting_instead_of_waiting_for_it()
    {
        // The daemon starts alongside the checks (to overlap its start-up); a refusal must stop one
        // that has not opened its monitor yet, not wait out the start timeout.
        var image = await ImageWithPreviousAsync();
        await AddBitmapAsync(image, "ck");
        var marker = "oe-never-ready-" + Guid.NewGuid().ToString("N");
        var fake = _ws["never-ready-daemon"];
        await File.WriteAllTextAsync(fake, $"#!/bin/bash\nexec -a {marker} sleep 600\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = _ws.Options with { Tools = new QemuTools(StorageDaemon: fake), DaemonStartTimeout = TimeSpan.FromMinutes(10) };
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<OfflineExportException>(() =>
            new ExportSession(options).RunAsync(Incremental(image, "no-such-checkpoint"), null, cts.Token));

        Assert.Equal(ErrorKind.InvalidCheckpoint, error.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"the refusal took {clock.Elapsed}");
        var survivors = Directory.EnumerateDirectories("/proc")
            .Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Where(d => ReadOrEmpty(Path.Combine(d, "cmdline")).Contains(marker, StringComparison.Ordinal))
            .ToList();
        Assert.Empty(survivors);
        _ws.AssertNothingLeftBehind();
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
