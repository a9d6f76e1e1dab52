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
}
