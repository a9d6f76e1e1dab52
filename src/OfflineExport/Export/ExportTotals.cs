namespace OfflineExport.Export;

/// <summary>How much an export plan copies and zeroes.</summary>
/// <param name="DataBytes">Bytes to read and write.</param>
/// <param name="ZeroBytes">Bytes to write as zeroes (incremental only).</param>
public readonly record struct ExportTotals(ulong DataBytes, ulong ZeroBytes)
{
    /// <summary>All the work, in bytes.</summary>
    public ulong TotalBytes => DataBytes + ZeroBytes;
}
