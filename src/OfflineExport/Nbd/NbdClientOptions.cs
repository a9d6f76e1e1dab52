namespace OfflineExport.Nbd;

/// <summary>What to ask of the server when connecting.</summary>
public sealed record NbdClientOptions
{
    /// <summary>The export to select with NBD_OPT_GO (and for SET_META_CONTEXT).</summary>
    public required string ExportName { get; init; }

    /// <summary>Metadata contexts to select, e.g. "base:allocation"; every one must be granted.</summary>
    public IReadOnlyList<string> MetaContexts { get; init; } = [];

    /// <summary>Most requests in flight at once on this connection (qemu serves 16 in parallel).</summary>
    public int MaxInFlight { get; init; } = 16;

    /// <summary>
    /// How long requests may be in flight with nothing arriving from the server before the connection
    /// is given up (and how long the handshake may take); null: for ever. A server that stops
    /// answering (a daemon under SIGSTOP, a wedged disk) is then reported instead of waited on.
    /// </summary>
    public TimeSpan? ReplyTimeout { get; init; }

    /// <summary>
    /// The thread that reads this connection's replies, shared with other connections (a copy's source and
    /// target); null: a pump of its own. The connection leaves it when it ends.
    /// </summary>
    public NbdReplyPump? ReplyPump { get; init; }
}
