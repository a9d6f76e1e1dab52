using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

/// <summary>PreviousBackupMap.Union: the stretches of every layer of the previous backup, as one ordered list to walk.</summary>
public sealed class PreviousBackupMapTests
{
    [Fact]
    public void Stretches_of_several_layers_are_joined_where_they_overlap_or_touch_and_ordered()
    {
        (ulong, ulong)[] top = [(100, 200), (500, 600)];
        (ulong, ulong)[] below = [(0, 50), (150, 300), (300, 350), (700, 800)];

        var union = PreviousBackupMap.Union(top.Concat(below), 1000, 10);

        Assert.Equal([new ByteRange(0, 50), new ByteRange(100, 250), new ByteRange(500, 100), new ByteRange(700, 100)], union);
    }

    [Fact]
    public void Stretches_are_cut_at_the_disk_size_and_those_past_it_dropped()
    {
        var union = PreviousBackupMap.Union([(0, 512), (512, 2048), (4096, 8192)], 1000, 10);

        Assert.Equal([new ByteRange(0, 1000)], union);
    }

    [Fact]
    public void Nothing_mapped_is_nothing_to_walk()
    {
        var union = PreviousBackupMap.Union([], 1000, 10);

        Assert.NotNull(union);
        Assert.Empty(union);
    }

    [Fact]
    public void More_stretches_than_the_maximum_give_no_answer()
    {
        (ulong, ulong)[] stretches = [(0, 1), (2, 3), (4, 5)];

        Assert.Null(PreviousBackupMap.Union(stretches, 1000, 2));
        Assert.Equal(3, PreviousBackupMap.Union(stretches, 1000, 3)!.Count);
    }
}
