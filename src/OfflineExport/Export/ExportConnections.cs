using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>The NBD connections of one export: a dirty-bitmap scanner, the data reader, the target writer.</summary>
public sealed class ExportConnections : IAsyncDisposable
{
    private readonly List<NbdClient> _all = [];

    // One thread reads the replies of every connection of the copy (docs/PERFORMANCE.md).
    private readonly NbdReplyPump _replies = new("nbd copy");
    private readonly TimeSpan? _replyTimeout;

    private ExportConnections(TimeSpan? replyTimeout) => _replyTimeout = replyTimeout;

    /// <summary>The connection that walks the dirty bitmap (incremental only).</summary>
    public NbdClient? DirtyScanner { get; private set; }

    /// <summary>The connection to the source with base:allocation: it reads the data and scans allocation.</summary>
    public NbdClient Source { get; private set; } = null!;

    /// <summary>The connection to the writable target (null for a dry run).</summary>
    public NbdClient? Target { get; private set; }

    /// <summary>Opens the source connections (the target's comes later, once it is open: <see cref="ConnectTargetAsync"/>).</summary>
    /// <param name="sourceSocket">The unix socket of the NBD server with the source export.</param>
    /// <param name="dirtyContext">The dirty-bitmap context, or null for a full export.</param>
    /// <param name="maxInFlight">The copy's requests in flight on the data connection.</param>
    /// <param name="replyTimeout">How long any connection may wait with requests out and nothing coming back.</param>
    /// <param name="cancellationToken">Cancels the handshakes.</param>
    public static async Task<ExportConnections> OpenAsync(string sourceSocket, string? dirtyContext, int maxInFlight, TimeSpan? replyTimeout, CancellationToken cancellationToken)
    {
        var result = new ExportConnections(replyTimeout);
        try
        {
            if (dirtyContext is not null)
            {
                result.DirtyScanner = await result.ConnectAsync(sourceSocket, BlockGraph.SourceExport, [dirtyContext], ExtentScanner.Lookahead, cancellationToken).ConfigureAwait(false);
            }

            // The planner's allocation windows go out on this connection beside the copy's reads: room for
            // both, so a window never waits for a read's slot (a wait would resume on the thread pool).
            result.Source = await result.ConnectAsync(sourceSocket, BlockGraph.SourceExport, [NbdProtocol.BaseAllocationContext], maxInFlight + ExtentScanner.Lookahead, cancellationToken).ConfigureAwait(false);

            return result;
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens the connection to the writable "target" export.</summary>
    public async Task ConnectTargetAsync(string targetSocket, int maxInFlight, CancellationToken cancellationToken) =>
        Target = await ConnectAsync(targetSocket, BlockGraph.TargetExport, [], maxInFlight, cancellationToken).ConfigureAwait(false);

    /// <summary>Flushes the target, then says goodbye on every connection.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (Target is not null)
        {
            await Target.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var client in _all)
        {
            await client.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Closes whatever is still open, every connection at once: the reply thread may be running code that
    /// waits on another connection's send, which only closing that connection ends.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_all.Select(client => client.DisposeAsync().AsTask())).ConfigureAwait(false);
        _replies.Dispose();
    }

    private async Task<NbdClient> ConnectAsync(string socketPath, string export, IReadOnlyList<string> contexts, int maxInFlight, CancellationToken cancellationToken)
    {
        var options = new NbdClientOptions { ExportName = export, MetaContexts = contexts, MaxInFlight = maxInFlight, ReplyTimeout = _replyTimeout, ReplyPump = _replies };
        var client = await NbdClient.ConnectUnixAsync(socketPath, options, cancellationToken).ConfigureAwait(false);
        _all.Add(client);
        return client;
    }
}
