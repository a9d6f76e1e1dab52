using OfflineExport.Export;
using OfflineExport.Tests.Support;

namespace OfflineExport.Tests.Export;

/// <summary>The copy engine over disks in memory: what it writes, what it skips, and which failure it reports.</summary>
public sealed class CopyEngineTests
{
    private const ulong KiB = 1024;
    private const ulong Size = 1024 * KiB;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Data_is_copied_and_zero_ranges_are_written_as_zeroes_over_a_backing()
    {
        // Arrange
        var source = new MemoryDisk(Size).Fill(0, 128 * KiB, 0x11).Fill(512 * KiB, 64 * KiB, 0x22);
        var target = new MemoryDisk(Size).Fill(0, Size, 0xEE); // what the backing file would show through
        var plan = Plan(Data(0, 128 * KiB), Zero(256 * KiB, 128 * KiB), Data(512 * KiB, 64 * KiB));
        using var cts = new CancellationTokenSource(Timeout);

        // Act
        var statistics = await new CopyEngine(source, target, 4, (int)(128 * KiB), targetHasBacking: true, null).RunAsync(plan, 320 * KiB, cts.Token);

        // Assert
        Assert.Equal(source.Data.AsSpan(0, (int)(128 * KiB)).ToArray(), target.Data.AsSpan(0, (int)(128 * KiB)).ToArray());
        Assert.Equal(source.Data.AsSpan((int)(512 * KiB), (int)(64 * KiB)).ToArray(), target.Data.AsSpan((int)(512 * KiB), (int)(64 * KiB)).ToArray());
        Assert.True(target.Data.AsSpan((int)(256 * KiB), (int)(128 * KiB)).IndexOfAnyExcept((byte)0) < 0, "the zero range must mask the backing");
        Assert.Equal([(256 * KiB, 128 * KiB)], target.Zeroes);
        Assert.Empty(source.Zeroes);
        Assert.Equal(0xEE, target.Data[(int)(200 * KiB)]); // outside the plan nothing is touched
        Assert.Equal(new CopyStatistics(192 * KiB, 128 * KiB, 3, 192 * KiB, 128 * KiB), statistics);
    }

    [Fact]
    public async Task Data_that_reads_as_zeroes_is_written_as_a_zero_request_over_a_backing()
    {
        var source = new MemoryDisk(Size); // allocated, but all zero
        var target = new MemoryDisk(Size).Fill(0, Size, 0xEE);
        using var cts = new CancellationTokenSource(Timeout);

        var statistics = await new CopyEngine(source, target, 2, (int)(64 * KiB), targetHasBacking: true, null).RunAsync(Plan(Data(64 * KiB, 64 * KiB)), 64 * KiB, cts.Token);

        Assert.Empty(target.Writes);
        Assert.Equal([(64 * KiB, 64 * KiB)], target.Zeroes);
        Assert.Equal(0UL, statistics.BytesCopied);
        Assert.Equal(64 * KiB, statistics.BytesZeroed);
    }

    [Fact]
    public async Task Data_that_reads_as_zeroes_is_skipped_without_a_backing()
    {
        var source = new MemoryDisk(Size);
        var target = new MemoryDisk(Size);
        using var cts = new CancellationTokenSource(Timeout);

        var statistics = await new CopyEngine(source, target, 2, (int)(64 * KiB), targetHasBacking: false, null).RunAsync(Plan(Data(0, 64 * KiB)), 64 * KiB, cts.Token);

        Assert.Empty(target.Writes);
        Assert.Empty(target.Zeroes);
        Assert.Equal(0L, statistics.Requests);
    }

    [Fact]
    public async Task The_first_failure_is_reported_not_the_cancellations_it_causes()
    {
        // Arrange: the third write fails; the other workers' requests are cancelled because of it.
        var source = new MemoryDisk(Size).Fill(0, Size, 0x33);
        var target = new MemoryDisk(Size);
        var writes = 0;
        target.BeforeRequest = (name, offset) =>
        {
            if (name == "write" && Interlocked.Increment(ref writes) == 3)
            {
                throw new IOException("disk gone at " + offset);
            }
        };
        var plan = Plan(Enumerable.Range(0, 16).Select(i => Data((ulong)i * 64 * KiB, 64 * KiB)).ToArray());
        using var cts = new CancellationTokenSource(Timeout);

        // Act
        var error = await Assert.ThrowsAsync<IOException>(() =>
            new CopyEngine(source, target, 4, (int)(64 * KiB), targetHasBacking: false, null).RunAsync(plan, Size, cts.Token));

        // Assert
        Assert.StartsWith("disk gone at ", error.Message, StringComparison.Ordinal);
        Assert.True(target.Writes.Count < 16, "the copy must stop at the first failure");
    }

    [Fact]
    public async Task A_failing_plan_stops_the_copy_with_the_plan_failure()
    {
        var source = new MemoryDisk(Size).Fill(0, Size, 0x44);
        var target = new MemoryDisk(Size);
        using var cts = new CancellationTokenSource(Timeout);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            new CopyEngine(source, target, 2, (int)(64 * KiB), targetHasBacking: false, null).RunAsync(FailingPlan(), Size, cts.Token));

        Assert.Equal("bad block status", error.Message);
    }

    [Fact]
    public async Task Progress_ends_with_every_planned_byte_done()
    {
        var source = new MemoryDisk(Size).Fill(0, Size, 0x55);
        var target = new MemoryDisk(Size);
        var reports = new List<ExportProgress>();
        var progress = new SynchronousProgress(reports);
        using var cts = new CancellationTokenSource(Timeout);

        await new CopyEngine(source, target, 2, (int)(128 * KiB), targetHasBacking: false, progress).RunAsync(Plan(Data(0, 64 * KiB), Data(64 * KiB, 64 * KiB), Data(128 * KiB, 128 * KiB)), 256 * KiB, cts.Token);

        Assert.Equal(0UL, reports[0].BytesDone);
        Assert.Equal(256 * KiB, reports[^1].BytesDone);
        Assert.All(reports, r => Assert.Equal(256 * KiB, r.BytesTotal));
    }

    private static CopyRange Data(ulong offset, ulong length) => new(offset, length, CopyKind.Data);

    private static CopyRange Zero(ulong offset, ulong length) => new(offset, length, CopyKind.Zero);

    private static async IAsyncEnumerable<CopyRange> Plan(params CopyRange[] ranges)
    {
        foreach (var range in ranges)
        {
            await Task.Yield();
            yield return range;
        }
    }

    private static async IAsyncEnumerable<CopyRange> FailingPlan()
    {
        yield return Data(0, 64 * KiB);
        await Task.Yield();
        throw new InvalidDataException("bad block status");
    }

    private sealed class SynchronousProgress(List<ExportProgress> reports) : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
