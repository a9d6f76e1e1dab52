using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>
/// Qcow2L1Table against qemu's own map: every cluster a real qcow2 holds (data or zeroes) lies in a stretch
/// the L1 table maps, for every cluster size and with extended L2 entries, and far-off stretches stay out.
/// </summary>
public sealed class Qcow2L1TableTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Theory]
    [InlineData(512, false)]
    [InlineData(65536, false)]
    [InlineData(65536, true)]
    [InlineData(2 << 20, false)]
    [InlineData(2 << 20, true)]
    public async Task Every_cluster_qemu_maps_lies_in_a_mapped_stretch(int clusterSize, bool extendedL2)
    {
        // Arrange: data and zero clusters scattered over a sparse 4 TiB disk (64 GiB with 512-byte clusters:
        // qemu caps the L1 table at 32 MiB).
        var image = _ws["layer.qcow2"];
        var size = clusterSize == 512 ? 64L << 30 : 4L << 40;
        await ImgAsync("create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize},extended_l2={(extendedL2 ? "on" : "off")}", image, size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        long[] offsets = [0, 3L << 20, 300L << 20, size / 13 * 3, size / 4, (size / 4 * 3) + (7L << 20), size - (4L << 20)];
        await IoAsync(image, [.. offsets.Select((o, i) => i % 3 == 2 ? $"write -z {o} 64k" : $"write -P {i + 1} {o} 64k")]);
        var held = await TopLayerMapAsync(image);

        // Act
        var stretches = Qcow2L1Table.MappedStretches(image, 1000);

        // Assert
        Assert.NotNull(stretches);
        Assert.NotEmpty(held);
        foreach (var extent in held)
        {
            Assert.Contains(stretches, s => s.Start <= (ulong)extent.Start && (ulong)(extent.Start + extent.Length) <= s.End);
        }

        // The L2 tables around each 64 KiB write at most, not the disk.
        var perTable = (ulong)clusterSize / (extendedL2 ? 16UL : 8UL) * (ulong)clusterSize;
        var mapped = stretches.Aggregate(0UL, (sum, s) => sum + (s.End - s.Start));
        Assert.True(mapped <= (ulong)offsets.Length * ((65536 / perTable) + 2) * perTable, $"{mapped} bytes mapped for {offsets.Length} writes");
    }

    [Fact]
    public async Task A_new_overlay_maps_nothing()
    {
        var (base_, top) = (_ws["base.qcow2"], _ws["top.qcow2"]);
        await CreateQcow2Async(base_, "1T");
        await IoAsync(base_, "write -P 1 100G 1M");
        await CreateOverlayAsync(top, base_);

        Assert.Empty(Qcow2L1Table.MappedStretches(top, 1000)!);
        Assert.Single(Qcow2L1Table.MappedStretches(base_, 1000)!);
    }
}
