namespace OfflineExport.Export;

/// <summary>A snapshot of an export's progress.</summary>
/// <param name="BytesDone">Planned bytes handled so far (copied, zeroed or found to be zero).</param>
/// <param name="BytesTotal">Planned bytes in all.</param>
/// <param name="BytesCopied">Bytes read and written as data.</param>
/// <param name="BytesZeroed">Bytes written as zeroes.</param>
/// <param name="Elapsed">Time since the copy started.</param>
public sealed record ExportProgress(ulong BytesDone, ulong BytesTotal, ulong BytesCopied, ulong BytesZeroed, TimeSpan Elapsed)
{
    /// <summary>Fraction done, 0 to 1.</summary>
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesDone / BytesTotal;

    /// <summary>Bytes handled per second so far.</summary>
    public double BytesPerSecond => Elapsed.TotalSeconds <= 0 ? 0 : BytesDone / Elapsed.TotalSeconds;
}
