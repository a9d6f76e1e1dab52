using System.Collections.Concurrent;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>
/// The options the daemon's nodes open with, against the real qemu-storage-daemon: every qcow2 node caches its
/// L2 tables whole (qemu refuses an entry larger than the node's own cluster, so chains of mixed cluster sizes
/// prove each layer gets its own), and qemu never flushes the partial output, which the publish fsyncs.
/// </summary>
public sealed class DaemonNodeOptionsTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Incremental_over_chains_of_mixed_cluster_sizes_caches_each_layers_whole_L2_tables_and_is_identical()
    {
        // Arrange: the disk is a 128 KiB-cluster overlay on a 32 KiB-cluster base; the previous backup is an
        // incremental (128 KiB clusters, like the disk's top) over a full copy made with 32 KiB clusters.
        var (baseImage, image) = (_ws["base.qcow2"], _ws["vda.qcow2"]);
        await CreateQcow2Async(baseImage, "64M", clusterSize: 32768);
        await IoAsync(baseImage, "write -P 0x11 0 6M");
        await CreateQcow2Async(image, "64M", baseImage, clusterSize: 131072);
        await IoAsync(image, "write -P 0x12 10M 2M");
        await ImgAsync("convert", "-O", "qcow2", "-o", "cluster_size=32768", image, _ws["full.qcow2"]);
        await AddBitmapAsync(image, "ck1");
        await IoAsync(image, "write -P 0x13 20M 1M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Format = "qcow2", Output = _ws["inc1.qcow2"], Bitmaps = ["ck1"], Backing = _ws["full.qcow2"] }, image, baseImage);
        await AddBitmapAsync(image, "ck2");
        await IoAsync(image, "write -P 0x14 1M 1M", "write -z 40M 2M");
        var log = new ConcurrentQueue<string>();
        var request = new ExportRequest { Image = image, Format = "qcow2", Output = _ws["inc2.qcow2"], Bitmaps = ["ck2"], Backing = _ws["inc1.qcow2"], Verify = true };

        // Act
        var result = await ExportHarness.ExportWithAsync(_ws, _ws.Options with { Log = log.Enqueue }, request, image, baseImage);

        // Assert
        Assert.True(result.Verified);
        Assert.Equal(0, await CompareAsync(request.Output, image));
        Assert.Equal(0, await CheckAsync(request.Output));
        var added = LoggedQmp.BlockdevAdds(log);
        var files = added.Where(n => (string?)n["driver"] == "file").ToDictionary(n => (string)n["node-name"]!, n => (string)n["filename"]!);
        var qcow2Nodes = added.Where(n => (string?)n["driver"] == "qcow2").ToList();
        // The source's two layers, the previous backup's two, and the output.
        Assert.Equal(5, qcow2Nodes.Count);
        // Opened in this order: the source bottom-up, the previous backup bottom-up, the output (published since, under its own name).
        Assert.Equal([baseImage, image, _ws["full.qcow2"], _ws["inc1.qcow2"]], qcow2Nodes.Take(4).Select(n => files[(string)n["file"]!]));
        foreach (var (node, file) in qcow2Nodes.Zip([baseImage, image, _ws["full.qcow2"], _ws["inc1.qcow2"], request.Output]))
        {
            Assert.Equal((await InfoAsync(file)).GetProperty("cluster-size").GetInt32(), (int?)node["l2-cache-entry-size"]);
        }

        Assert.Equal([32768, 131072, 32768, 131072, 131072], qcow2Nodes.Select(n => (int)n["l2-cache-entry-size"]!));
        foreach (var node in added.Where(n => (string?)n["driver"] == "file"))
        {
            // Only the partial output, while it is created and while it is written: the publish fsyncs it.
            Assert.Equal((string?)node["node-name"] is "target-file" or "creation-file", LoggedQmp.CacheOption(node, "no-flush"));
        }
    }
}
