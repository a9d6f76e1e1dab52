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
    /// <summary>
    /// Starts the check of the top layer before its chain is read, when it is sure to be checked: stated as
    /// qcow2, or detected as one, and its header names no external data file (the check would open it before
    /// anyone knew what it is: on a detected format, on the word of a header a guest may have written; on any,
    /// perhaps a FIFO). Both qemu-img runs load the image's bitmaps whole, which on a 16 TiB disk is most of
    /// their time; side by side they cost one. Null: checked in turn.
    /// </summary>
    public static Task<ImageCheckResult>? StartTopAhead(QemuImg qemuImg, string image, string? format, CancellationToken cancellationToken)
    {
        if (format is not null and not ImageFormats.Qcow2)
        {
            return null;
        }

        try
        {
            var sure = format is null ? Qcow2Header.IsPlainQcow2(image) : !Qcow2Header.UsesExternalDataFile(image);
            return sure ? qemuImg.CheckQcow2Async(image, cancellationToken) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // qemu-img info says what is wrong with it
        }
    }

    /// <summary>Checks the chain's qcow2 layers concurrently; <paramref name="topAhead"/> (from <see cref="StartTopAhead"/>) stands for the top's check.</summary>
    /// <exception cref="OfflineExportException">A layer is damaged or could not be checked (InvalidImage).</exception>
    public static async Task RunAsync(QemuImg qemuImg, IReadOnlyList<ImageInfo> chain, Task<ImageCheckResult>? topAhead, CancellationToken cancellationToken)
    {
        // Layers the validator refuses anyway (encrypted, json: names) are not worth a check that would fail differently.
        var qcow2 = chain.Where(l => l.Format == ImageFormats.Qcow2 && !l.IsEncrypted && Path.IsPathRooted(l.Filename)).ToList();
        var layers = qcow2.Select(l => l.Filename).ToList();
        var usesAhead = topAhead is not null && layers.Count > 0 && layers[0] == chain[0].Filename;
        // qemu-img check opens a layer's data file: a FIFO there would hold it until the stall timeout.
        ImageFile.CheckDataFiles(qcow2);

        var checks = qcow2.Select((l, i) => usesAhead && i == 0 ? topAhead! : qemuImg.CheckQcow2Async(l.Filename, cancellationToken, l.DataFilePath)).ToList();
        if (topAhead is not null && !usesAhead)
        {
            // The top turned out not to need it (qemu-img saw no qcow2 there): its outcome does not matter, only that it ends.
            checks.Add(IgnoreOutcomeAsync(topAhead));
        }

        var results = await Task.WhenAll(checks).ConfigureAwait(false);
        for (var i = 0; i < layers.Count; i++)
        {
            Judge(layers[i], results[i]);
        }
    }

    private static async Task<ImageCheckResult> IgnoreOutcomeAsync(Task<ImageCheckResult> check)
    {
        try
        {
            return await check.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new ImageCheckResult(0, null, null);
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
