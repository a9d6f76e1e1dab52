using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>Export:Splice=true: data forwarded between the NBD sockets by splice(2), on real qemu.</summary>
public sealed class SpliceExportTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Spliced_full_and_incremental_exports_are_identical_and_keep_zero_data_sparse()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        // Requests larger than one pipe payload, odd sizes, and a range of explicit zero bytes.
        await IoAsync(image, "write -P 0x11 0 8M", "write -P 0x22 20M 3M", "write -P 0x00 40M 1M");
        var options = _ws.Options with { Splice = true, RequestSize = 4 << 20 };
        var full = await RunAsync(options, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image));
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x33 1M 1M", "write -P 0x00 4M 512K", "write -z 8M 1M", "write -P 0x44 30M 64K");

        var incremental = await RunAsync(options, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"], Verify = true,
        }, image);

        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], image));
        Assert.Equal(0, await CheckAsync(_ws["inc.qcow2"]));
        Assert.True(incremental.Verified);
        // qemu's detect-zeroes turned the spliced all-zero megabyte into no data at all.
        Assert.Equal(11L << 20, await TopLayerDataBytesAsync(_ws["full.qcow2"]));
        Assert.Equal((1L << 20) + (64L << 10), await TopLayerDataBytesAsync(_ws["inc.qcow2"]));
        // The zeroed megabyte always counts; the explicit zero half megabyte counts too when qemu answers
        // its read with a hole (it may also send it as data, which detect-zeroes then drops).
        Assert.InRange(incremental.BytesZeroed, 1UL << 20, (1UL << 20) + (512UL << 10));
        // The explicit zero megabyte is either carried (and dropped by detect-zeroes) or answered by
        // qemu as a hole and skipped; the real data always travels.
        Assert.InRange(full.BytesCopied, 11UL << 20, 12UL << 20);
    }

    private async Task<ExportResult> RunAsync(ExportOptions options, ExportRequest request, string image)
    {
        var before = Sha256(image);
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        var result = await new ExportSession(options).RunAsync(request, null, cts.Token);
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
        return result;
    }
}
