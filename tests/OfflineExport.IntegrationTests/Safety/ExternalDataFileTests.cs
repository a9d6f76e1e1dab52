using System.Text.Json.Nodes;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// A qcow2 whose guest data lives in an external data file, named in its header relative to the image (as
/// <c>qemu-img create -o data_file=vda.data</c> records it). qemu 7.2 opens such a name from its own working
/// folder: the daemon, started wherever the command ran, read another file of that name there (or failed), and
/// verify's qemu-img compare, run in the backup's folder, failed. Every layer's data file is now taken from the
/// layer's own folder, as libvirt takes it, and named explicitly to qemu.
/// </summary>
public sealed class ExternalDataFileTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    /// <summary>
    /// A qcow2 at <paramref name="image"/> of 32 MiB whose data file sits next to it, recorded by its full name
    /// until <see cref="RecordBareNameAsync"/>.
    /// </summary>
    private static async Task CreateWithDataFileAsync(string image, string dataName, string? backing = null)
    {
        List<string> args = ["create", "-q", "-f", "qcow2", "-o", $"data_file={Path.Combine(Path.GetDirectoryName(image)!, dataName)}"];
        if (backing is not null)
        {
            args.AddRange(["-b", backing, "-F", "qcow2"]);
        }

        await ImgAsync([.. args, image, "32M"]);
    }

    /// <summary>Records the data file by its bare name, as <c>qemu-img create -o data_file=NAME</c> run in the image's folder does (amend opens the chain).</summary>
    private static Task RecordBareNameAsync(string image, string dataName) =>
        ImgAsync("amend", "-f", "qcow2", "-o", $"data_file={dataName}", image);

    /// <summary>The chain as a qemu tool run anywhere opens it, each layer's data file named in full (layers top first).</summary>
    private static string Explicit(params (string Image, string DataFile)[] layers)
    {
        JsonNode? below = null;
        foreach (var (image, dataFile) in layers.Reverse())
        {
            below = new JsonObject
            {
                ["driver"] = "qcow2",
                ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = image },
                ["data-file"] = new JsonObject { ["driver"] = "file", ["filename"] = dataFile },
                ["backing"] = below,
            };
        }

        return "json:" + below!.ToJsonString();
    }

    [Fact]
    public async Task A_relative_data_file_is_read_from_the_image_folder_not_from_where_the_command_runs()
    {
        // Arrange: the disk in vm/, and in the folder the command runs in (the workspace) another file of the data file's name.
        Directory.CreateDirectory(_ws["vm"]);
        var disk = _ws["vm/vda.qcow2"];
        await CreateWithDataFileAsync(disk, "vda.data");
        await RecordBareNameAsync(disk, "vda.data");
        var diskAnywhere = Explicit((disk, _ws["vm/vda.data"]));
        await IoAsync(diskAnywhere, "write -P 0x5a 0 1M");
        var decoy = _ws["vda.data"];
        await ImgAsync("create", "-q", "-f", "raw", decoy, "32M");
        await IoWithFormatAsync(decoy, "raw", "write -P 0x66 0 2M");

        // Act: a full point, a write, an incremental point verified, the verify command, a restore.
        var first = await CliProcess.RunAsync(_ws, "backup", "vm/vda.qcow2", "--format", "qcow2", "--target", "bk");
        await IoAsync(diskAnywhere, "write -P 0x77 4M 1M");
        var second = await CliProcess.RunAsync(_ws, "backup", "vm/vda.qcow2", "--format", "qcow2", "--target", "bk", "--verify");
        var verify = await CliProcess.RunAsync(_ws, "verify", "vm/vda.qcow2", "bk/vda.1.inc.qcow2", "--format", "qcow2");
        var restore = await CliProcess.RunAsync(_ws, "restore", "bk", "restored.qcow2", "--disk", "vda");

        // Assert
        Assert.True(first.ExitCode == 0, first.Stderr);
        await IoAsync(_ws["bk/vda.0.full.qcow2"], "read -P 0x5a 0 1M", "read -P 0 1M 1M");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("made point 1 (inc", second.Stdout + second.Stderr, StringComparison.Ordinal);
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(0, await CompareAsync(_ws["restored.qcow2"], diskAnywhere));
        await IoAsync(_ws["restored.qcow2"], "read -P 0x5a 0 1M", "read -P 0 1M 3M", "read -P 0x77 4M 1M");
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Each_layer_of_a_chain_reads_its_own_relative_data_file()
    {
        // Two folders, each with a layer whose data file is called "data": only each layer's own folder tells them apart.
        Directory.CreateDirectory(_ws["base"]);
        Directory.CreateDirectory(_ws["top"]);
        var baseImage = _ws["base/disk.qcow2"];
        var top = _ws["top/disk.qcow2"];
        await CreateWithDataFileAsync(baseImage, "data");
        await IoAsync(baseImage, "write -P 0x11 0 2M");
        await CreateWithDataFileAsync(top, "data", backing: baseImage);
        await RecordBareNameAsync(top, "data"); // while the base's is still a full name
        await RecordBareNameAsync(baseImage, "data");
        var chain = Explicit((top, _ws["top/data"]), (baseImage, _ws["base/data"]));
        await IoAsync(chain, "write -P 0x22 1M 1M");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = top, Output = _ws["out.qcow2"], Format = "qcow2", Verify = true },
            top, baseImage, _ws["top/data"], _ws["base/data"]);

        Assert.True(result.Verified);
        await IoAsync(_ws["out.qcow2"], "read -P 0x11 0 1M", "read -P 0x22 1M 1M", "read -P 0 2M 1M");
        Assert.Equal(0, await CompareAsync(_ws["out.qcow2"], chain));
    }

    [Fact]
    public async Task A_data_file_that_is_a_fifo_is_refused_before_qemu_opens_it()
    {
        // Opening a FIFO waits for a writer: the daemon, and qemu-img compare, would hang there.
        var disk = _ws["vda.qcow2"];
        await ImgAsync("create", "-q", "-f", "qcow2", "-o", $"data_file={_ws["vda.data"]}", disk, "32M");
        File.Delete(_ws["vda.data"]);
        await MakeFifoAsync(_ws["vda.data"]);

        var refused = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = disk, Output = _ws["out.qcow2"], Format = "qcow2" }, disk);
        await ImgAsync("create", "-q", "-f", "qcow2", _ws["other.qcow2"], "32M");
        var verify = await CliProcess.RunAsync(_ws, "verify", disk, _ws["other.qcow2"], "--format", "qcow2");

        var expected = $"{disk}: its data file {_ws["vda.data"]} is a named pipe (FIFO), not a disk image";
        Assert.Equal(ErrorKind.InvalidImage, refused.Kind);
        Assert.StartsWith(expected, refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["out.qcow2"]));
        Assert.Equal(3, verify.ExitCode);
        Assert.Contains(expected, verify.Stderr, StringComparison.Ordinal);
    }
}
