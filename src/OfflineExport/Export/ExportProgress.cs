namespace OfflineExport.Export;

/// <summary>A snapshot of the progress of an export or of another long step over a disk's bytes.</summary>
/// <param name="BytesDone">Planned bytes handled so far (copied, zeroed or found to be zero).</param>
/// <param name="BytesTotal">Planned bytes in all.</param>
/// <param name="BytesCopied">Bytes read and written as data.</param>
/// <param name="BytesZeroed">Bytes written as zeroes.</param>
/// <param name="Elapsed">Time since the copy started.</param>
public sealed record ExportProgress(ulong BytesDone, ulong BytesTotal, ulong BytesCopied, ulong BytesZeroed, TimeSpan Elapsed)
{
    /// <summary>The step this is the progress of: the copy, or a long step around it (its verification).</summary>
    public ProgressStep Step { get; init; } = ProgressStep.Copy;

    /// <summary>Fraction done, 0 to 1.</summary>
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesDone / BytesTotal;

    /// <summary>Bytes handled per second so far.</summary>
    public double BytesPerSecond => Elapsed.TotalSeconds <= 0 ? 0 : BytesDone / Elapsed.TotalSeconds;

    /// <summary>
    /// What turns qemu-img's fractions into <paramref name="step"/>'s progress over <paramref name="bytes"/>, timed
    /// from now; null when nobody listens (qemu-img then runs without <c>-p</c>).
    /// </summary>
    public static Action<double>? ReporterFor(IProgress<ExportProgress>? progress, ProgressStep step, ulong bytes)
    {
        if (progress is null)
        {
            return null;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        return fraction => progress.Report(new ExportProgress((ulong)(Math.Clamp(fraction, 0, 1) * bytes), bytes, 0, 0, clock.Elapsed) { Step = step });
    }
}
