using OfflineExport.Export;
using OfflineExport.Nbd;
using OfflineExport.Tests.Support;

namespace OfflineExport.Tests.Export;

/// <summary>The planner over disks in memory: dirty runs × allocation, the measurement replayed, short answers.</summary>
public sealed class ExportPlannerTests
{
    private const ulong KiB = 1024;
    private const ulong Size = 4096 * KiB;
    private const string Dirty = "qemu:dirty-bitmap:ck";
    private const string Allocation = NbdProtocol.BaseAllocationContext;
    private const uint Zero = NbdProtocol.StateZero | NbdProtocol.StateHole;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Incremental_plans_only_the_dirty_runs_split_into_data_and_zeroes()
    {
        // Arrange: dirty [1 MiB, 2 MiB) and [3 MiB, 3 MiB + 64 KiB); the first half of the first run reads as zero.
        var disk = Disk(
            [(0, 1024 * KiB, 0), (1024 * KiB, 1024 * KiB, NbdProtocol.StateDirty), (2048 * KiB, 1024 * KiB, 0), (3072 * KiB, 64 * KiB, NbdProtocol.StateDirty), (3136 * KiB, 960 * KiB, 0)],
            [(0, 1024 * KiB, 0), (1024 * KiB, 512 * KiB, Zero), (1536 * KiB, 2560 * KiB, 0)]);
        using var cts = new CancellationTokenSource(Timeout);

        // Act
        var plan = await Planner(disk, incremental: true).PlanAsync(null, cts.Token).ToListAsync(cts.Token);

        // Assert
        Assert.Equal(
            [new CopyRange(1024 * KiB, 512 * KiB, CopyKind.Zero), new CopyRange(1536 * KiB, 512 * KiB, CopyKind.Data), new CopyRange(3072 * KiB, 64 * KiB, CopyKind.Data)],
            plan);
    }

    [Fact]
    public async Task Full_export_skips_zero_ranges()
    {
        var disk = Disk(null, [(0, 1024 * KiB, 0), (1024 * KiB, 2048 * KiB, Zero), (3072 * KiB, 1024 * KiB, 0)]);
        using var cts = new CancellationTokenSource(Timeout);

        var plan = await Planner(disk, incremental: false).PlanAsync(null, cts.Token).ToListAsync(cts.Token);

        Assert.Equal([new CopyRange(0, 1024 * KiB, CopyKind.Data), new CopyRange(3072 * KiB, 1024 * KiB, CopyKind.Data)], plan);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_plan_replays_the_measurement_instead_of_walking_again(bool incremental)
    {
        // Arrange
        var disk = Disk(
            [(0, 512 * KiB, 0), (512 * KiB, 1024 * KiB, NbdProtocol.StateDirty), (1536 * KiB, 2560 * KiB, 0)],
            [(0, 768 * KiB, 0), (768 * KiB, 256 * KiB, Zero), (1024 * KiB, 3072 * KiB, 0)]);
        var planner = Planner(disk, incremental);
        using var cts = new CancellationTokenSource(Timeout);
        var walked = await planner.PlanAsync(null, cts.Token).ToListAsync(cts.Token);

        // Act
        var measurement = await planner.MeasureAsync(cts.Token);
        var queriesAfterMeasuring = disk.StatusQueries.Count;
        var replayed = await planner.PlanAsync(measurement, cts.Token).ToListAsync(cts.Token);

        // Assert
        Assert.Equal(walked, replayed);
        if (incremental)
        {
            Assert.Equal(1024 * KiB, measurement.WorkBytes); // every dirty byte is copied or zeroed
            Assert.Equal([new ByteRange(512 * KiB, 1024 * KiB)], measurement.DirtyRuns);
            Assert.Null(measurement.Ranges);
            // Only allocation is asked again, for the dirty run: the bitmap is not walked twice.
            Assert.All(disk.StatusQueries.Skip(queriesAfterMeasuring), q => Assert.True(q.Offset >= 512 * KiB));
        }
        else
        {
            Assert.Equal(3840 * KiB, measurement.WorkBytes);
            Assert.Equal(walked, measurement.Ranges);
            Assert.Equal(queriesAfterMeasuring, disk.StatusQueries.Count);
        }
    }

    [Fact]
    public async Task Too_many_runs_to_keep_are_walked_again_and_planned_the_same()
    {
        // Arrange: one dirty 4 KiB block in every 8 KiB, more runs than the planner keeps.
        const ulong block = 4 * KiB;
        var runs = (ulong)ExportPlanner.MaximumKeptRuns + 1;
        var size = runs * 2 * block;
        var dirty = Enumerable.Range(0, (int)runs).SelectMany(i => new[] { ((ulong)i * 2 * block, block, NbdProtocol.StateDirty), (((ulong)i * 2 + 1) * block, block, 0u) }).ToArray();
        var disk = new MemoryDisk(size).WithContext(Dirty, dirty).WithContext(Allocation, (0, size, 0));
        var planner = new ExportPlanner(disk, Dirty, disk, size, 1024 * KiB, 1UL << 30);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Act
        var measurement = await planner.MeasureAsync(cts.Token);
        var plan = await planner.PlanAsync(measurement, cts.Token).ToListAsync(cts.Token);

        // Assert
        Assert.Null(measurement.DirtyRuns);
        Assert.Equal(runs * block, measurement.WorkBytes);
        Assert.Equal((int)runs, plan.Count);
        Assert.All(plan, r => Assert.Equal((block, CopyKind.Data), (r.Length, r.Kind)));
    }

    [Fact]
    public async Task Short_block_status_answers_give_the_same_plan()
    {
        var dirty = new (ulong, ulong, uint)[] { (0, 256 * KiB, 0), (256 * KiB, 3072 * KiB, NbdProtocol.StateDirty), (3328 * KiB, 768 * KiB, 0) };
        var allocation = new (ulong, ulong, uint)[] { (0, 1024 * KiB, 0), (1024 * KiB, 1024 * KiB, Zero), (2048 * KiB, 2048 * KiB, 0) };
        var whole = Disk(dirty, allocation);
        var cut = Disk(dirty, allocation);
        cut.MaximumAnswer = 96 * KiB; // an answer covers less than asked: the planner must ask again from where it ended
        using var cts = new CancellationTokenSource(Timeout);

        var expected = await Planner(whole, incremental: true).PlanAsync(null, cts.Token).ToListAsync(cts.Token);
        var actual = await Planner(cut, incremental: true).PlanAsync(null, cts.Token).ToListAsync(cts.Token);

        Assert.Equal(expected, actual);
        Assert.True(cut.StatusQueries.Count > whole.StatusQueries.Count);
        Assert.Equal(3072 * KiB, actual.Aggregate(0UL, (sum, r) => sum + r.Length));
    }

    [Fact]
    public async Task Requests_are_cut_to_the_largest_data_and_zero_sizes()
    {
        var disk = Disk(null, [(0, 2048 * KiB, 0), (2048 * KiB, 2048 * KiB, 0)]);
        var planner = new ExportPlanner(null, null, disk, Size, 512 * KiB, 1UL << 30);
        using var cts = new CancellationTokenSource(Timeout);

        var plan = await planner.PlanAsync(null, cts.Token).ToListAsync(cts.Token);

        Assert.Equal(8, plan.Count);
        Assert.All(plan, r => Assert.Equal(512 * KiB, r.Length));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (ulong)i * 512 * KiB), plan.Select(r => r.Offset));
    }

    [Fact]
    public async Task Totals_add_up_data_and_zeroes()
    {
        var totals = await ExportPlanner.TotalsAsync(Ranges(new CopyRange(0, 10, CopyKind.Data), new CopyRange(10, 5, CopyKind.Zero), new CopyRange(20, 7, CopyKind.Data)), CancellationToken.None);

        Assert.Equal(new ExportTotals(17, 5), totals);
    }

    private static MemoryDisk Disk((ulong, ulong, uint)[]? dirty, (ulong, ulong, uint)[] allocation)
    {
        var disk = new MemoryDisk(Size).WithContext(Allocation, allocation);
        return dirty is null ? disk : disk.WithContext(Dirty, dirty);
    }

    private static ExportPlanner Planner(MemoryDisk disk, bool incremental) =>
        new(incremental ? disk : null, incremental ? Dirty : null, disk, Size, 1024 * KiB, 1UL << 30);

    private static async IAsyncEnumerable<CopyRange> Ranges(params CopyRange[] ranges)
    {
        foreach (var range in ranges)
        {
            await Task.Yield();
            yield return range;
        }
    }
}
