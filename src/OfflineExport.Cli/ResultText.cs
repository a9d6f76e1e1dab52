using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>Human summaries of results.</summary>
public static class ResultText
{
    /// <summary>A short summary of an export.</summary>
    public static string Describe(ExportResult result)
    {
        var mode = result.Mode.ToString().ToLowerInvariant();
        var since = result.Bitmaps.Count == 0 ? string.Empty : $" since {string.Join(" + ", result.Bitmaps)}";
        var backing = result.Backing is null ? string.Empty : $" (backing: {result.Backing})";
        var rate = result.Duration.TotalSeconds > 0 ? (result.BytesCopied + result.BytesZeroed) / result.Duration.TotalSeconds : 0;
        var verified = result.Verified ? "; verified identical with qemu-img compare" : string.Empty;
        return $"{mode} export{since} of {result.Image} -> {result.Output}{backing}: " +
               $"{Units.Bytes(result.BytesCopied)} copied, {Units.Bytes(result.BytesZeroed)} zeroed in {Units.Duration(result.Duration)} " +
               $"({Units.Bytes(rate)}/s){verified}";
    }
}
