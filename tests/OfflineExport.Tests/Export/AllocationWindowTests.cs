using OfflineExport.Export;
using OfflineExport.Nbd;

namespace OfflineExport.Tests.Export;

public sealed class AllocationWindowTests
{
    private static AllocationWindow Window(params (ulong Offset, ulong Length, uint Flags)[] extents)
    {
        var window = new AllocationWindow();
        window.Reset(extents.Select(e => new NbdExtent(e.Offset, e.Length, e.Flags)).ToList());
        return window;
    }

    [Fact]
    public void Window_covers_from_its_first_extent_to_the_end_of_its_last()
    {
        var window = Window((100, 50, 0), (150, 50, 2));

        Assert.Equal(100UL, window.Start);
        Assert.Equal(200UL, window.End);
        Assert.True(window.Covers(100));
        Assert.True(window.Covers(199));
        Assert.False(window.Covers(99));
        Assert.False(window.Covers(200));
    }

    [Fact]
    public void Slice_cuts_the_extents_to_the_requested_range_keeping_their_flags()
    {
        var window = Window((0, 64, 0), (64, 64, 2), (128, 64, 0));
        var output = new List<NbdExtent>();

        var stop = window.Slice(32, 160, output);

        Assert.Equal(160UL, stop);
        Assert.Equal([new NbdExtent(32, 32, 0), new NbdExtent(64, 64, 2), new NbdExtent(128, 32, 0)], output);
    }

    [Fact]
    public void Range_running_past_the_window_stops_at_its_end()
    {
        var window = Window((0, 64, 0), (64, 64, 2));
        var output = new List<NbdExtent>();

        var stop = window.Slice(100, 1000, output);

        Assert.Equal(128UL, stop);
        Assert.Equal([new NbdExtent(100, 28, 2)], output);
    }

    [Fact]
    public void Successive_forward_queries_each_see_only_their_own_range()
    {
        var window = Window((0, 100, 0), (100, 100, 2), (200, 100, 0), (300, 100, 2));
        var first = new List<NbdExtent>();
        var second = new List<NbdExtent>();

        window.Slice(50, 120, first);
        window.Slice(250, 350, second);

        Assert.Equal([new NbdExtent(50, 50, 0), new NbdExtent(100, 20, 2)], first);
        Assert.Equal([new NbdExtent(250, 50, 0), new NbdExtent(300, 50, 2)], second);
    }

    [Fact]
    public void A_query_that_steps_back_still_gets_the_right_extents()
    {
        var window = Window((0, 100, 0), (100, 100, 2));
        var late = new List<NbdExtent>();
        var early = new List<NbdExtent>();

        window.Slice(150, 160, late);
        window.Slice(10, 20, early);

        Assert.Equal([new NbdExtent(150, 10, 2)], late);
        Assert.Equal([new NbdExtent(10, 10, 0)], early);
    }

    [Fact]
    public void Offset_outside_the_window_is_refused()
    {
        var window = Window((100, 100, 0));

        Assert.Throws<ArgumentOutOfRangeException>(() => window.Slice(200, 300, []));
    }

    [Fact]
    public void Empty_extent_list_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new AllocationWindow().Reset([]));
    }
}
