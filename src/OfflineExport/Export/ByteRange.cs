namespace OfflineExport.Export;

/// <summary>A range of the disk.</summary>
/// <param name="Offset">First byte.</param>
/// <param name="Length">Length in bytes.</param>
public readonly record struct ByteRange(ulong Offset, ulong Length)
{
    /// <summary>One past the last byte.</summary>
    public ulong End => Offset + Length;
}
