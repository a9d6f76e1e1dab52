using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

/// <summary>The queue between the planner and the copy workers: order, the producer's half-drained wake-up, completion and closing.</summary>
public sealed class CopyRangeQueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static CopyRange Range(int i) => new((ulong)i * 65536, 65536, CopyKind.Data);

    [Fact]
    public async Task A_full_queue_lets_its_producer_go_on_only_once_it_has_drained_to_half()
    {
        // Arrange: capacity 8; the eighth range fills it.
        var queue = new CopyRangeQueue(8);
        for (var i = 0; i < 7; i++)
        {
            Assert.True(await queue.AddAsync(Range(i)));
        }

        var eighth = queue.AddAsync(Range(7));
        Assert.False(eighth.IsCompleted);

        // Act and assert: taking 3 leaves 5, more than half: the producer still waits; the fourth wakes it.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Range(i), await queue.TakeAsync());
        }

        Assert.False(eighth.IsCompleted);
        Assert.Equal(Range(3), await queue.TakeAsync());
        Assert.True(await eighth.AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_waiting_worker_gets_the_next_range_and_null_after_completion()
    {
        var queue = new CopyRangeQueue(4);
        var waiting = queue.TakeAsync();
        Assert.False(waiting.IsCompleted);

        Assert.True(await queue.AddAsync(Range(5)));
        Assert.Equal(Range(5), await waiting.AsTask().WaitAsync(Timeout));

        Assert.True(await queue.AddAsync(Range(6)));
        queue.Complete();
        Assert.Equal(Range(6), await queue.TakeAsync()); // what was queued is still copied
        Assert.Null(await queue.TakeAsync());
        Assert.Null(await queue.TakeAsync());
    }

    [Fact]
    public async Task Closing_wakes_waiting_workers_and_a_waiting_producer_and_drops_what_is_queued()
    {
        // Arrange: one worker waits on an empty queue of one instance, a producer on a full one of another.
        var empty = new CopyRangeQueue(4);
        var worker = empty.TakeAsync();
        var full = new CopyRangeQueue(2);
        Assert.True(await full.AddAsync(Range(0)));
        var producer = full.AddAsync(Range(1));
        Assert.False(producer.IsCompleted);

        // Act
        empty.Close();
        full.Close();

        // Assert
        Assert.Null(await worker.AsTask().WaitAsync(Timeout));
        Assert.False(await producer.AsTask().WaitAsync(Timeout));
        Assert.Null(await full.TakeAsync());
        Assert.False(await full.AddAsync(Range(2)));
    }
}
