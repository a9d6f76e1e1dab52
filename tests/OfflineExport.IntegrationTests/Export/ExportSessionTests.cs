using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>End-to-end exports on real qemu: each result is proven with qemu-img compare and check.</summary>
public sealed class ExportSessionTests : IDisposable
{
    private const long Cluster = 64 * 1024;
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Full_export_of_a_single_image_is_identical_standalone_and_sparse()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x11 0 8M", "write -P 0x22 32M 4M", "write -z 48M 1M");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);

        Assert.Equal(ExportMode.Full, result.Mode);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image));
        Assert.Equal(0, await CheckAsync(_ws["full.qcow2"]));
        var info = await InfoAsync(_ws["full.qcow2"]);
        Assert.False(info.TryGetProperty("backing-filename", out _));
        Assert.Equal(12L << 20, await TopLayerDataBytesAsync(_ws["full.qcow2"]));
        Assert.Equal(12UL << 20, result.BytesCopied);
    }

    [Fact]
    public async Task Incremental_of_a_single_layer_copies_only_the_dirty_clusters()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x11 0 16M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck1");
        await IoAsync(image, "write -P 0x33 1M 64K", "write -P 0x44 40M 128K");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck1"], Backing = _ws["full.qcow2"],
        }, image);

        Assert.Equal(ExportMode.Incremental, result.Mode);
        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], image));
        Assert.Equal(0, await CheckAsync(_ws["inc.qcow2"]));
        var map = await TopLayerMapAsync(_ws["inc.qcow2"]);
        Assert.Equal([(1L << 20, 64L << 10), (40L << 20, 128L << 10)], map.Where(e => e.Data).Select(e => (e.Start, e.Length)));
        Assert.Equal(192UL << 10, result.BytesCopied);
        Assert.Equal(192UL << 10, result.PlannedBytes);
    }

    [Fact]
    public async Task Bitmap_across_three_layers_is_merged_from_every_layer()
    {
        var base_ = _ws["base.qcow2"];
        var mid = _ws["mid.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "64M");
        await IoAsync(base_, "write -P 0x01 0 32M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = base_, Output = _ws["full.qcow2"] }, base_);
        await AddBitmapAsync(base_, "ck");
        await IoAsync(base_, "write -P 0x02 2M 64K");
        await CreateOverlayAsync(mid, base_);
        await AddBitmapAsync(mid, "ck");
        await IoAsync(mid, "write -P 0x03 10M 128K");
        await CreateOverlayAsync(top, mid);
        await AddBitmapAsync(top, "ck");
        await IoAsync(top, "write -P 0x04 50M 64K");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = top, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"], Format = "qcow2",
        }, top, mid, base_);

        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], top));
        Assert.Equal(0, await CheckAsync(_ws["inc.qcow2"]));
        Assert.Equal(256L << 10, await TopLayerDataBytesAsync(_ws["inc.qcow2"]));
        Assert.Equal(256UL << 10, result.BytesCopied);
    }

    [Fact]
    public async Task Bitmap_only_in_the_top_layer_exports_only_the_top_layers_writes()
    {
        var base_ = _ws["base.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "32M");
        await IoAsync(base_, "write -P 0x01 0 8M");
        await CreateOverlayAsync(top, base_);
        await IoAsync(top, "write -P 0x02 1M 1M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = top, Output = _ws["full.qcow2"], Format = "qcow2" }, top, base_);
        await AddBitmapAsync(top, "ck");
        await IoAsync(top, "write -P 0x03 20M 64K");

        await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = top, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"], Format = "qcow2",
        }, top, base_);

        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], top));
        Assert.Equal(64L << 10, await TopLayerDataBytesAsync(_ws["inc.qcow2"]));
    }

    [Fact]
    public async Task Dirty_zeroed_and_discarded_ranges_over_previous_data_mask_the_backing()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x55 0 32M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -z 4M 2M", "discard 8M 1M", "write -P 0x00 12M 256K");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"],
        }, image);

        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], image));
        Assert.Equal(0, await CheckAsync(_ws["inc.qcow2"]));
        // Every dirty range reads as zero, so the overlay holds zero clusters and no data at all.
        var map = await TopLayerMapAsync(_ws["inc.qcow2"]);
        Assert.Equal(0, map.Where(e => e.Data).Sum(e => e.Length));
        Assert.Equal((3L << 20) + (256L << 10), map.Where(e => e.Zero).Sum(e => e.Length));
        Assert.Equal(0UL, result.BytesCopied);
        Assert.Equal((3UL << 20) + (256UL << 10), result.BytesZeroed);
    }

    [Fact]
    public async Task Dirty_4k_writes_inside_64k_clusters_copy_whole_clusters()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x66 0 16M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck");
        // Three clusters touched: 64K+4K, 64K+60K (same cluster), 1M+8K, 5M+60K.
        await IoAsync(image, "write -P 0x77 68K 4K", "write -P 0x78 124K 4K", "write -P 0x79 1032K 4K", "write -P 0x7a 5180K 4K");

        await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"],
        }, image);

        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], image));
        Assert.Equal(3 * Cluster, await TopLayerDataBytesAsync(_ws["inc.qcow2"]));
    }

    [Fact]
    public async Task Virtual_size_that_is_no_multiple_of_the_cluster_size_exports_to_the_last_byte()
    {
        var image = _ws["vda.qcow2"];
        const long size = (10L << 20) + 1536;
        await CreateQcow2Async(image, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await IoAsync(image, "write -P 0x21 0 1M", $"write -P 0x22 {size - 4096} 4096");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, $"write -P 0x23 {size - 512} 512");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"],
        }, image);

        Assert.Equal((ulong)size, result.VirtualSize);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], _ws["full.qcow2"]));
        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], image));
        Assert.Equal(size, (await InfoAsync(_ws["inc.qcow2"])).GetProperty("virtual-size").GetInt64());
    }

    [Fact]
    public async Task Differential_exports_the_union_of_two_checkpoints()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "32M");
        await IoAsync(image, "write -P 0x10 0 16M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck1");
        await AddBitmapAsync(image, "ck2");
        // ck1 misses the first write and ck2 the second: only their union covers both.
        await ImgAsync("bitmap", "--disable", image, "ck1");
        await IoAsync(image, "write -P 0x11 1M 64K");
        await ImgAsync("bitmap", "--enable", image, "ck1");
        await ImgAsync("bitmap", "--disable", image, "ck2");
        await IoAsync(image, "write -P 0x12 9M 64K");
        await ImgAsync("bitmap", "--enable", image, "ck2");

        var union = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["diff.qcow2"], Bitmaps = ["ck1", "ck2"], Backing = _ws["full.qcow2"],
        }, image);
        await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["only-ck1.qcow2"], Bitmaps = ["ck1"], Backing = _ws["full.qcow2"],
        }, image);

        Assert.Equal(ExportMode.Differential, union.Mode);
        Assert.Equal(0, await CompareAsync(_ws["diff.qcow2"], image));
        Assert.Equal(2 * Cluster, await TopLayerDataBytesAsync(_ws["diff.qcow2"]));
        Assert.Equal(1, await CompareAsync(_ws["only-ck1.qcow2"], image));
    }

    [Fact]
    public async Task Full_export_of_a_three_layer_chain_is_one_standalone_image()
    {
        var base_ = _ws["base.qcow2"];
        var mid = _ws["mid.qcow2"];
        var top = _ws["top.qcow2"];
        await CreateQcow2Async(base_, "64M");
        await IoAsync(base_, "write -P 0x01 0 4M");
        await CreateOverlayAsync(mid, base_);
        await IoAsync(mid, "write -P 0x02 2M 4M", "write -z 0 1M");
        await CreateOverlayAsync(top, mid);
        await IoAsync(top, "write -P 0x03 40M 1M");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = top, Output = _ws["full.qcow2"], Verify = true, Format = "qcow2" }, top, mid, base_);

        Assert.True(result.Verified);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], top));
        Assert.False((await InfoAsync(_ws["full.qcow2"])).TryGetProperty("backing-filename", out _));
        // 0-1M reads as zero (skipped), 1M-6M data, 40M-41M data.
        Assert.Equal(6L << 20, await TopLayerDataBytesAsync(_ws["full.qcow2"]));
    }

    [Fact]
    public async Task Raw_image_can_be_exported_in_full()
    {
        var image = _ws["vda.raw"];
        await ImgAsync("create", "-q", "-f", "raw", image, "16M");
        await IoWithFormatAsync(image, "raw", "write -P 0x42 1M 2M");

        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"], Verify = true }, image);

        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image, "raw"));
        Assert.Equal(2L << 20, await TopLayerDataBytesAsync(_ws["full.qcow2"]));
    }

    [Fact]
    public async Task Backing_file_is_recorded_relative_with_its_format_so_the_folder_can_move()
    {
        var image = _ws["vda.qcow2"];
        var backups = Directory.CreateDirectory(_ws["backups"]).FullName;
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x31 0 4M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = Path.Combine(backups, "d1.full.qcow2") }, image);
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x32 8M 64K");
        await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = Path.Combine(backups, "d1.inc1.qcow2"), Bitmaps = ["ck"], Backing = Path.Combine(backups, "d1.full.qcow2"),
        }, image);

        var info = await InfoAsync(Path.Combine(backups, "d1.inc1.qcow2"));
        Assert.Equal("d1.full.qcow2", info.GetProperty("backing-filename").GetString());
        Assert.Equal("qcow2", info.GetProperty("backing-filename-format").GetString());
        var moved = _ws["moved"];
        Directory.Move(backups, moved);
        Assert.Equal(0, await CompareAsync(Path.Combine(moved, "d1.inc1.qcow2"), image));
    }

    [Fact]
    public async Task Existing_output_is_refused_without_force_and_replaced_with_force()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "8M");
        await IoAsync(image, "write -P 0x01 0 1M");
        var output = _ws["out.qcow2"];
        await File.WriteAllTextAsync(output, "precious");

        var refused = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = image, Output = output }, image);
        Assert.Equal(ErrorKind.OutputProblem, refused.Kind);
        Assert.Contains("already exists", refused.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(output));

        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = output, Force = true }, image);
        Assert.Equal(0, await CompareAsync(output, image));
    }

    [Fact]
    public async Task A_backing_name_that_a_symlinked_folder_would_lead_to_another_file_is_refused_before_anything_is_written()
    {
        // lex/bk is a symlink to phys/bk: "../prev/p0.qcow2" from lex/bk names phys/prev/p0.qcow2, a decoy.
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 1M");
        await AddBitmapAsync(image, "ck");
        Directory.CreateDirectory(_ws["phys/bk"]);
        Directory.CreateDirectory(_ws["lex/prev"]);
        Directory.CreateDirectory(_ws["phys/prev"]);
        File.CreateSymbolicLink(_ws["lex/bk"], "../phys/bk");
        var previous = _ws["lex/prev/p0.qcow2"];
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = previous }, image);
        await CreateQcow2Async(_ws["phys/prev/p0.qcow2"], "16M");
        await IoAsync(image, "write -P 0x02 4M 64K");

        var failure = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest
        {
            Image = image, Output = _ws["lex/bk/inc.qcow2"], Bitmaps = ["ck"], Backing = previous,
        }, image);

        Assert.Equal(ErrorKind.InvalidRequest, failure.Kind);
        Assert.Contains("would record, ../prev/p0.qcow2, leads from ", failure.Message, StringComparison.Ordinal);
        Assert.Contains("to another file, not to " + previous, failure.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_ws["phys/bk"]));
    }

    [Fact]
    public async Task A_dry_run_into_a_folder_that_does_not_exist_yet_measures_the_incremental()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 1M");
        await AddBitmapAsync(image, "ck");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["p0.qcow2"] }, image);
        await IoAsync(image, "write -P 0x02 4M 64K");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["later/inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["p0.qcow2"], DryRun = true,
        }, image);

        Assert.True(result.DryRun);
        Assert.Equal(64UL << 10, result.PlannedDataBytes);
        Assert.False(Directory.Exists(_ws["later"]));
    }

    [Fact]
    public async Task Verification_catches_a_wrong_previous_backup_and_leaves_no_output()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 4M");
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x02 8M 64K");
        // Not the backup the checkpoint was taken against: it lacks the first 4 MiB.
        await CreateQcow2Async(_ws["wrong.qcow2"], "16M");

        var failure = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["wrong.qcow2"], Verify = true,
        }, image);

        Assert.Equal(ErrorKind.VerificationFailed, failure.Kind);
        Assert.Contains("differs", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Large_dirty_zero_range_is_written_as_a_few_zero_requests()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "3G");
        await IoAsync(image, "write -P 0x01 0 1M", "write -P 0x01 2G 1M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -z 0 1G", "write -z 1G 1G", "write -P 0x09 2560M 64K");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"],
        }, image);

        Assert.Equal(0, await CompareAsync(_ws["inc.qcow2"], image));
        Assert.Equal(2UL << 30, result.BytesZeroed);
        Assert.Equal(64UL << 10, result.BytesCopied);
    }

    [Fact]
    public async Task Dry_run_measures_the_dirty_bytes_and_writes_nothing()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 4M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x02 8M 192K", "write -z 1M 64K");

        var result = await ExportHarness.ExportAsync(_ws, new ExportRequest
        {
            Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["full.qcow2"], DryRun = true,
        }, image);

        Assert.True(result.DryRun);
        Assert.Equal(256UL << 10, result.PlannedBytes);
        Assert.False(File.Exists(_ws["inc.qcow2"]));
    }
}
