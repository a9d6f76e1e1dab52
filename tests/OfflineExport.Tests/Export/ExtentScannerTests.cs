using System.Threading.Channels;
using OfflineExport.Export;
using OfflineExport.Nbd;

namespace OfflineExport.Tests.Export;

/// <summary>ExtentScanner over block sources in memory: windows asked ahead, short answers completed in order.</summary>
public sealed class ExtentScannerTests
{
    private const ulong Window = ExtentScanner.MaxRequestLength;
    private const string Allocation = NbdProtocol.BaseAllocationContext;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Scanner_asks_several_windows_ahead_and_yields_them_in_order()
    {
        // Arrange
        using var cts = new CancellationTokenSource(Timeout);
        var source = new ScriptedSource();

        // Act
        var scan = ExtentScanner.ScanAsync(source, Allocation, 0, 3 * Window, cts.Token).ToListAsync(cts.Token).AsTask();
        // All three windows are asked before any answer: that is the look-ahead.
        var requests = new[] { await source.NextAsync(cts.Token), await source.NextAsync(cts.Token), await source.NextAsync(cts.Token) };
        // Answered last to first, each with its own flags.
        for (var i = 2; i >= 0; i--)
        {
            requests[i].Answer(Window, (uint)i);
        }

        var batches = await scan.WaitAsync(Timeout);

        // Assert
        Assert.Equal([0UL, Window, 2 * Window], requests.Select(r => r.Offset));
        Assert.Equal([0UL, Window, 2 * Window], batches.Select(b => Assert.Single(b).Offset));
        Assert.Equal([0U, 1U, 2U], batches.Select(b => b[0].Flags));
    }

    [Fact]
    public async Task Scanner_completes_a_short_answer_before_using_the_next_window()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var source = new ScriptedSource();

        var scan = ExtentScanner.ScanAsync(source, Allocation, 0, 2 * Window, cts.Token).ToListAsync(cts.Token).AsTask();
        var first = await source.NextAsync(cts.Token);
        var second = await source.NextAsync(cts.Token);
        second.Answer(Window, 2);
        // The first window's answer covers only its first quarter: the rest is asked for next.
        first.Answer(Window / 4, 0);
        var rest = await source.NextAsync(cts.Token);
        rest.Answer(Window * 3 / 4, 1);
        var batches = await scan.WaitAsync(Timeout);

        Assert.Equal((Window / 4, (uint)(Window * 3 / 4)), (rest.Offset, rest.Length));
        Assert.Equal([0UL, Window / 4, Window], batches.Select(b => Assert.Single(b).Offset));
        Assert.Equal([0U, 1U, 2U], batches.Select(b => b[0].Flags));
    }

    [Fact]
    public async Task An_answer_that_makes_no_progress_is_an_error_not_a_loop()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var source = new ScriptedSource();

        var scan = ExtentScanner.ScanAsync(source, Allocation, 0, Window, cts.Token).ToListAsync(cts.Token).AsTask();
        (await source.NextAsync(cts.Token)).AnswerNothing();
        var error = await Assert.ThrowsAsync<NbdException>(() => scan.WaitAsync(Timeout));

        Assert.Contains("made no progress", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answers_asked_ahead_are_waited_for_when_the_consumer_stops_early()
    {
        // Arrange: three windows asked at once; the consumer stops after the first.
        using var cts = new CancellationTokenSource(Timeout);
        var source = new ScriptedSource();
        var consumer = Task.Run(async () =>
        {
            await foreach (var batch in ExtentScanner.ScanAsync(source, Allocation, 0, 3 * Window, cts.Token))
            {
                break;
            }
        });
        var requests = new[] { await source.NextAsync(cts.Token), await source.NextAsync(cts.Token), await source.NextAsync(cts.Token) };

        // Act
        requests[0].Answer(Window, 0);
        await Task.Delay(200, cts.Token);
        var stoppedWhileAnswersWereOut = consumer.IsCompleted;
        requests[1].Answer(Window, 0);
        requests[2].Answer(Window, 0);
        await consumer.WaitAsync(Timeout);

        // Assert: the enumerator did not end with answers still out (none is left running or unobserved).
        Assert.False(stoppedWhileAnswersWereOut);
    }

    [Fact]
    public async Task Stretches_are_asked_ahead_across_each_other_and_the_gaps_between_them_never()
    {
        // Arrange: a stretch of one and a half windows, an empty one, then a short one far away.
        using var cts = new CancellationTokenSource(Timeout);
        var source = new ScriptedSource();
        ByteRange[] stretches = [new(Window, Window + (Window / 2)), new(5 * Window, 0), new(9 * Window, 4096)];

        // Act
        var scan = ExtentScanner.ScanAsync(source, Allocation, stretches, cts.Token).ToListAsync(cts.Token).AsTask();
        // All three windows are asked before any answer, the far stretch's too.
        var requests = new[] { await source.NextAsync(cts.Token), await source.NextAsync(cts.Token), await source.NextAsync(cts.Token) };
        foreach (var request in requests)
        {
            request.Answer(request.Length, 0);
        }

        var batches = await scan.WaitAsync(Timeout);

        // Assert
        Assert.Equal([(Window, (uint)Window), (2 * Window, (uint)(Window / 2)), (9 * Window, 4096U)], requests.Select(r => (r.Offset, r.Length)));
        Assert.Equal([Window, 2 * Window, 9 * Window], batches.Select(b => Assert.Single(b).Offset));
    }

    [Fact]
    public async Task No_stretches_ask_nothing()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var source = new ScriptedSource();

        var batches = await ExtentScanner.ScanAsync(source, Allocation, [], cts.Token).ToListAsync(cts.Token);
        var empty = await ExtentScanner.ScanAsync(source, Allocation, 7, 7, cts.Token).ToListAsync(cts.Token);

        Assert.Empty(batches);
        Assert.Empty(empty);
        Assert.False(source.WasAsked);
    }

    /// <summary>A source whose BLOCK_STATUS answers the test gives, in the order it chooses.</summary>
    private sealed class ScriptedSource : IBlockSource
    {
        private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>();

        public ValueTask ReadAsync(ulong offset, Memory<byte> destination, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<NbdBlockStatus> BlockStatusAsync(ulong offset, uint length, CancellationToken cancellationToken)
        {
            var request = new Request(offset, length);
            _requests.Writer.TryWrite(request);
            return request.Reply.Task;
        }

        public async Task<Request> NextAsync(CancellationToken cancellationToken) => await _requests.Reader.ReadAsync(cancellationToken);

        public bool WasAsked => _requests.Reader.Count > 0;
    }

    private sealed class Request(ulong offset, uint length)
    {
        public ulong Offset { get; } = offset;

        public uint Length { get; } = length;

        public TaskCompletionSource<NbdBlockStatus> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Answer(ulong length, uint flags) =>
            Reply.SetResult(new NbdBlockStatus(new Dictionary<string, IReadOnlyList<NbdExtent>> { [Allocation] = [new NbdExtent(Offset, length, flags)] }));

        public void AnswerNothing() =>
            Reply.SetResult(new NbdBlockStatus(new Dictionary<string, IReadOnlyList<NbdExtent>> { [Allocation] = [] }));
    }
}
