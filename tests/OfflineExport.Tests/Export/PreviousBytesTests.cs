using OfflineExport.Export;
using OfflineExport.Tests.Nbd;

namespace OfflineExport.Tests.Export;

/// <summary>The previous backup's bytes, read where metadata cannot tell a change, against a fake NBD server.</summary>
public sealed class PreviousBytesTests
{
    private const ulong MiB = 1 << 20;

    [Fact]
    public async Task Reads_until_a_byte_that_is_not_zero_and_past_its_budget_reads_nothing_and_counts_the_range()
    {
        // Arrange: an 8 MiB export of zeroes but one byte at 5 MiB; a budget of 4 MiB.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var server = FakeNbdServer.Start(new FakeNbdExport { Size = 8 * MiB });
        var reads = new List<(ulong Offset, uint Length)>();
        var serving = ServeReadsAsync(server, reads, cts.Token);
        var bytes = new PreviousBytes(server.SocketPath, null, budget: 4 * MiB);

        // Act
        var zeroes = await bytes.HoldsNonZeroAsync(new ByteRange(0, 2 * MiB), cts.Token);
        var oldData = await bytes.HoldsNonZeroAsync(new ByteRange(4 * MiB, 2 * MiB), cts.Token);
        var pastBudget = await bytes.HoldsNonZeroAsync(new ByteRange(0, 1), cts.Token);
        await bytes.DisposeAsync();
        await serving.WaitAsync(cts.Token);

        // Assert
        Assert.False(zeroes);
        Assert.True(oldData);
        Assert.True(pastBudget); // refused from the metadata, as before anything was read
        Assert.Equal([(0UL, (uint)MiB), (MiB, (uint)MiB), (4 * MiB, (uint)MiB), (5 * MiB, (uint)MiB)], reads);
        Assert.Equal(4 * MiB, bytes.BytesRead);
    }

    [Fact]
    public async Task Nothing_connects_until_the_first_question()
    {
        await using var server = FakeNbdServer.Start();
        var bytes = new PreviousBytes(server.SocketPath, null);

        await bytes.FinishAsync(CancellationToken.None);
        await bytes.DisposeAsync();

        Assert.Equal(0UL, bytes.BytesRead);
        Assert.Null(server.GoExportName);
    }

    /// <summary>Handshakes, then answers every READ with zeroes but a 0x5A at 5 MiB, until the client leaves.</summary>
    private static async Task ServeReadsAsync(FakeNbdServer server, List<(ulong, uint)> reads, CancellationToken cancellationToken)
    {
        await server.AcceptAndHandshakeAsync(cancellationToken);
        while (true)
        {
            FakeNbdRequest request;
            try
            {
                request = await server.ReadRequestAsync(cancellationToken);
            }
            catch (EndOfStreamException)
            {
                return;
            }

            if (request.Type != FakeNbdRequest.Read)
            {
                return;
            }

            reads.Add((request.Offset, request.Length));
            var data = new byte[request.Length];
            if (request.Offset <= 5 * MiB && 5 * MiB < request.End)
            {
                data[5 * MiB - request.Offset] = 0x5A;
            }

            await server.SendDataAsync(request.Cookie, request.Offset, data, done: true, cancellationToken);
        }
    }
}
