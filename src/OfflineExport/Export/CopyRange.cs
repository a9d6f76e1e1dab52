namespace OfflineExport.Export;

/// <summary>One planned request: a range of the disk and what to do with it.</summary>
/// <param name="Offset">First byte.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Kind">Data to copy, or zeroes to write.</param>
public readonly record struct CopyRange(ulong Offset, ulong Length, CopyKind Kind)
{
    /// <summary>One past the last byte.</summary>
    public ulong End => Offset + Length;
}
