using OfflineExport.Export;
using OfflineExport.Nbd;

namespace OfflineExport.Tests.Nbd;

/// <content>ExtentScanner over a fake server: windows asked ahead, short answers completed in order.</content>
public partial class NbdClientTests
{
    private const ulong Window = ExtentScanner.MaxRequestLength;

    [Fact]
    public async Task Scanner_asks_several_windows_ahead_and_yields_them_in_order()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Size = 3 * Window, Contexts = new Dictionary<string, uint> { [Allocation] = 11 } };
        await using var server = FakeNbdServer.Start(export);
        await using var client = await ConnectAsync(server, Options(Allocation) with { MaxInFlight = ExtentScanner.Lookahead }, cts.Token);

        var scan = ExtentScanner.ScanAsync(client, Allocation, 0, 3 * Window, cts.Token).ToListAsync(cts.Token).AsTask();
        // All three windows are asked before any answer: that is the look-ahead.
        var requests = new[] { await server.ReadRequestAsync(cts.Token), await server.ReadRequestAsync(cts.Token), await server.ReadRequestAsync(cts.Token) };
        Assert.Equal([0UL, Window, 2 * Window], requests.Select(r => r.Offset));
        // Answered last to first, each with its own flags.
        for (var i = 2; i >= 0; i--)
        {
            await server.SendBlockStatusAsync(requests[i].Cookie, 11, [((uint)Window, (uint)i)], done: true, cts.Token);
        }

        var batches = await scan.WaitAsync(Timeout);
        Assert.Equal([0UL, Window, 2 * Window], batches.Select(b => Assert.Single(b).Offset));
        Assert.Equal([0U, 1U, 2U], batches.Select(b => b[0].Flags));
    }

    [Fact]
    public async Task Scanner_completes_a_short_answer_before_using_the_next_window()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var export = new FakeNbdExport { Size = 2 * Window, Contexts = new Dictionary<string, uint> { [Allocation] = 11 } };
        await using var server = FakeNbdServer.Start(export);
        await using var client = await ConnectAsync(server, Options(Allocation) with { MaxInFlight = ExtentScanner.Lookahead }, cts.Token);

        var scan = ExtentScanner.ScanAsync(client, Allocation, 0, 2 * Window, cts.Token).ToListAsync(cts.Token).AsTask();
        var first = await server.ReadRequestAsync(cts.Token);
        var second = await server.ReadRequestAsync(cts.Token);
        await server.SendBlockStatusAsync(second.Cookie, 11, [((uint)Window, 2)], done: true, cts.Token);
        // The first window's answer covers only its first quarter: the rest is asked for next.
        await server.SendBlockStatusAsync(first.Cookie, 11, [((uint)(Window / 4), 0)], done: true, cts.Token);
        var rest = await server.ReadRequestAsync(cts.Token);
        Assert.Equal((Window / 4, (uint)(Window * 3 / 4)), (rest.Offset, rest.Length));
        await server.SendBlockStatusAsync(rest.Cookie, 11, [((uint)(Window * 3 / 4), 1)], done: true, cts.Token);

        var batches = await scan.WaitAsync(Timeout);
        Assert.Equal([0UL, Window / 4, Window], batches.Select(b => Assert.Single(b).Offset));
        Assert.Equal([0U, 1U, 2U], batches.Select(b => b[0].Flags));
    }
}
