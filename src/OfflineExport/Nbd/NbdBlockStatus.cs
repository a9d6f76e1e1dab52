namespace OfflineExport.Nbd;

/// <summary>The extents one BLOCK_STATUS request returned, per metadata context.</summary>
public sealed class NbdBlockStatus
{
    private readonly IReadOnlyDictionary<string, IReadOnlyList<NbdExtent>> _byContext;

    /// <summary>Wraps extents keyed by context name.</summary>
    public NbdBlockStatus(IReadOnlyDictionary<string, IReadOnlyList<NbdExtent>> byContext) => _byContext = byContext;

    /// <summary>The contexts that answered.</summary>
    public IEnumerable<string> Contexts => _byContext.Keys;

    /// <summary>The extents of <paramref name="context"/>, starting at the request offset, in order, never past the request end.</summary>
    /// <exception cref="NbdException">The server sent nothing for that context.</exception>
    public IReadOnlyList<NbdExtent> this[string context] =>
        _byContext.TryGetValue(context, out var extents)
            ? extents
            : throw new NbdException($"NBD: server sent no extents for context '{context}'");
}
