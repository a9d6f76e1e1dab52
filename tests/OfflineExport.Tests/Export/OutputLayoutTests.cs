using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

/// <summary>The layout of a new backup: the top's clusters when they are fine enough, subclusters as fine as the finest zero run otherwise.</summary>
public sealed class OutputLayoutTests
{
    [Theory]
    [InlineData("qcow2", 65536, false, 65536)]
    [InlineData("qcow2", 131072, true, 4096)]
    [InlineData("qcow2", 2097152, true, 65536)]
    [InlineData("qcow2", 16384, true, 512)]
    [InlineData("qcow2", null, false, 4096)]
    [InlineData("raw", null, false, 4096)]
    public void A_layer_reports_zero_runs_as_fine_as_its_subclusters_clusters_or_file_system_blocks(string format, int? cluster, bool extended, int expected) =>
        Assert.Equal(expected, OutputLayout.ZeroGranularity(format, cluster, extended));

    [Theory]
    // The top alone, fine enough: its own layout, as every backup had before.
    [InlineData(65536, new[] { 65536 }, 65536, false)]
    [InlineData(2097152, new[] { 2097152, 2097152 }, 2097152, false)]
    [InlineData(65536, new[] { 65536, 131072 }, 65536, false)]
    // An extended_l2 top of 128 KiB: 4 KiB subclusters, so the same layout.
    [InlineData(131072, new[] { 4096 }, 131072, true)]
    // A raw layer (4 KiB holes) under a 64 KiB top: 2 KiB subclusters in 64 KiB clusters.
    [InlineData(65536, new[] { 65536, 4096 }, 65536, true)]
    // Under a 2 MiB top: clusters of 128 KiB, whose subclusters are the 4 KiB the raw layer needs.
    [InlineData(2097152, new[] { 2097152, 4096 }, 131072, true)]
    // A 32 KiB-cluster base under a 64 KiB top.
    [InlineData(65536, new[] { 65536, 32768 }, 65536, true)]
    // 512-byte runs: the smallest clusters subclusters allow, 16 KiB.
    [InlineData(65536, new[] { 512 }, 16384, true)]
    // A top too small for subclusters: 16 KiB clusters of 512-byte subclusters, larger than its own.
    [InlineData(8192, new[] { 8192, 4096 }, 16384, true)]
    [InlineData(4096, new[] { 4096, 512 }, 16384, true)]
    [InlineData(4096, new[] { 4096 }, 4096, false)]
    public void The_layout_follows_the_finest_zero_run_of_the_chain(int top, int[] granularities, int cluster, bool extended) =>
        Assert.Equal(new OutputLayout(cluster, extended), OutputLayout.For(top, granularities));

    [Fact]
    public void Subclusters_are_never_coarser_than_the_finest_zero_run()
    {
        foreach (var top in new[] { 512, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152 })
        {
            foreach (var finest in new[] { 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 }.Where(f => f <= top))
            {
                var layout = OutputLayout.For(top, [top, finest]);
                var subcluster = layout.ExtendedL2 ? layout.ClusterSize / 32 : layout.ClusterSize;
                Assert.True(subcluster <= finest || finest >= top, $"top {top}, finest {finest}: {layout}");
                Assert.True(layout.ClusterSize <= Math.Max(top, 16384), $"top {top}, finest {finest}: {layout}");
            }
        }
    }

    [Fact]
    public void The_layout_as_qemu_img_options()
    {
        Assert.Equal("cluster_size=65536,extended_l2=on", new OutputLayout(65536, true).QemuImgOptions);
        Assert.Equal("cluster_size=2097152", new OutputLayout(2097152, false).QemuImgOptions);
    }
}
