namespace OfflineExport.Nbd;

/// <summary>A block-status extent with an absolute offset (the wire format only carries lengths).</summary>
/// <param name="Offset">First byte of the extent.</param>
/// <param name="Length">Length in bytes (64-bit so merged extents never overflow).</param>
/// <param name="Flags">Context-specific flags: base:allocation HOLE/ZERO, dirty-bitmap DIRTY.</param>
public readonly record struct NbdExtent(ulong Offset, ulong Length, uint Flags)
{
    /// <summary>One past the last byte.</summary>
    public ulong End => Offset + Length;
}
