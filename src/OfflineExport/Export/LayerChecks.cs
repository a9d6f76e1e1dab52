using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// <c>qemu-img check</c> of every qcow2 layer of a chain. A layer whose tables point past the end of
/// the file (a truncated copy, a bad sector) reads as zeros there: exported, it would be "verified
/// identical" to the damage. Clean and leaks-only layers pass; corruptions, or a check that could not
/// complete, refuse the chain.
/// </summary>
public static class LayerChecks
{
    /// <summary>Checks the chain's qcow2 layers concurrently.</summary>
    /// <exception cref="OfflineExportException">A layer is damaged or could not be checked (InvalidImage).</exception>
    public static async Task RunAsync(QemuImg qemuImg, IReadOnlyList<ImageInfo> chain, CancellationToken cancellationToken)
    {
        // Layers the validator refuses anyway (encrypted, json: names) are not worth a check that would fail differently.
        var layers = chain.Where(l => l.Format == ImageFormats.Qcow2 && !l.IsEncrypted && Path.IsPathRooted(l.Filename)).Select(l => l.Filename).ToList();
        var results = await Task.WhenAll(layers.Select(l => qemuImg.CheckQcow2Async(l, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < layers.Count; i++)
        {
            Judge(layers[i], results[i]);
        }
    }

    /// <summary>Pure: refuses a layer whose check found corruptions or could not complete.</summary>
    /// <exception cref="OfflineExportException">The layer cannot be trusted (InvalidImage).</exception>
    public static void Judge(string layer, ImageCheckResult result)
    {
        if (result.IsReadable)
        {
            return;
        }

        var finding = result.FirstError is null ? string.Empty : $": {result.FirstError}";
        if (result.ExitCode == 2)
        {
            var count = result.Report is { Corruptions: > 0 } report ? $"{report.Corruptions} corruption{(report.Corruptions == 1 ? string.Empty : "s")}" : "corruptions";
            throw new OfflineExportException(ErrorKind.InvalidImage,
                $"{layer} is damaged (qemu-img check found {count}{finding}); it cannot be backed up as it is: inspect it with 'qemu-img check -f qcow2 {layer}'");
        }

        throw new OfflineExportException(ErrorKind.InvalidImage,
            $"{layer} could not be checked (qemu-img check exit code {result.ExitCode}{finding}); it cannot be backed up as it is");
    }
}
