using CliWrap;
using CliWrap.Buffered;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>
/// A disk on a block device (an LVM volume; here a loop device over a file of the workspace): the daemon opens it
/// with host_device, as qemu's file driver refuses block devices.
/// </summary>
public sealed class BlockDeviceTests : IDisposable
{
    private readonly TestWorkspace _ws = new();
    private string? _device;

    public void Dispose()
    {
        if (_device is not null)
        {
            CliWrap.Cli.Wrap("losetup").WithArguments(["-d", _device]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync().Task.Wait(TimeSpan.FromSeconds(30));
        }

        _ws.Dispose();
    }

    private async Task<string> LoopDeviceAsync(string backingFile)
    {
        var result = await CliWrap.Cli.Wrap("losetup").WithArguments(["--find", "--show", backingFile]).ExecuteBufferedAsync();
        _device = result.StandardOutput.Trim();
        return _device;
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("qcow2")]
    public async Task A_disk_on_a_block_device_exports_and_compares_identical(string format)
    {
        // Arrange
        var file = _ws["volume.img"];
        using (var volume = File.Create(file))
        {
            volume.SetLength(64 << 20);
        }

        var device = await LoopDeviceAsync(file);
        if (format == "qcow2")
        {
            await ImgAsync("create", "-q", "-f", "qcow2", device, "32M");
            await IoAsync(device, "write -P 0x11 0 1M", "write -P 0x12 20M 2M");
        }
        else
        {
            await IoWithFormatAsync(device, "raw", "write -P 0x13 1M 1M", "write -P 0x14 40M 512k");
        }

        // Act
        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = device, Format = format, Output = _ws["out.qcow2"], Verify = true });

        // Assert
        Assert.True(result.Verified);
        Assert.Equal(0, await CompareAsync(_ws["out.qcow2"], device, format));
    }
}
