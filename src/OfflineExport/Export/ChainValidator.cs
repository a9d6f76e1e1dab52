using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// Pure validation of a backing chain and of the checkpoints requested on it, following the rules
/// in ARCHITECTURE.md ("Bitmap validation"). Every refusal names the file at fault.
/// </summary>
public static class ChainValidator
{
    /// <summary>Validates the chain's structure, then each bitmap name; returns the merge sources.</summary>
    /// <param name="chain">qemu-img's chain, top first, with absolute file names.</param>
    /// <param name="bitmaps">Requested checkpoint names (empty for a full export).</param>
    /// <exception cref="OfflineExportException">Something in the chain or a checkpoint cannot be trusted.</exception>
    public static ValidatedChain Validate(IReadOnlyList<ImageInfo> chain, IReadOnlyList<string> bitmaps)
    {
        var layers = ValidateStructure(chain);
        var top = layers[0];
        if (bitmaps.Count > 0 && top.Format != "qcow2")
        {
            throw new OfflineExportException(ErrorKind.InvalidCheckpoint,
                $"{top.Path} is a {top.Format} image, which cannot hold checkpoints (dirty bitmaps); only a full export is possible");
        }

        var sources = new List<(ChainLayer, string)>();
        var notes = new List<string>();
        foreach (var name in bitmaps.Distinct(StringComparer.Ordinal))
        {
            sources.AddRange(ValidateBitmap(layers, name, notes));
        }

        var granularity = sources.Count == 0
            ? 0
            : sources.Min(s => s.Item1.Info.Bitmaps.First(b => b.Name == s.Item2).Granularity);
        return new ValidatedChain(layers, sources, granularity) { Notes = notes.Distinct().ToList() };
    }

    /// <summary>Checks formats, encryption, corruption and backing links of every layer (rule 5).</summary>
    /// <param name="chain">The chain, top first, as qemu-img reported it.</param>
    /// <param name="nodePrefix">The layers' node-name prefix (<see cref="ChainLayer.NodePrefix"/>).</param>
    public static IReadOnlyList<ChainLayer> ValidateStructure(IReadOnlyList<ImageInfo> chain, string nodePrefix = ChainLayer.SourcePrefix)
    {
        if (chain.Count == 0)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, "qemu-img reported an empty backing chain");
        }

        var layers = new List<ChainLayer>(chain.Count);
        for (var i = 0; i < chain.Count; i++)
        {
            var info = chain[i];
            var path = info.Filename;
            if (info.Format is not ("qcow2" or "raw"))
            {
                throw new OfflineExportException(ErrorKind.InvalidImage, $"{path}: format '{info.Format}' is not supported (only qcow2 and raw)");
            }

            if (!System.IO.Path.IsPathRooted(path) || path.StartsWith("json:", StringComparison.Ordinal))
            {
                throw new OfflineExportException(ErrorKind.InvalidImage, $"{path}: only local image files are supported");
            }

            if (info.IsEncrypted)
            {
                var scheme = info.FormatSpecific?.Data?.Encrypt?.Format is { Length: > 0 } name ? $" ({name.ToUpperInvariant()})" : string.Empty;
                throw new OfflineExportException(ErrorKind.InvalidImage, $"{path} is encrypted{scheme}; offline-export cannot read encrypted images");
            }

            if (info.IsCorrupt)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage, $"{path} is marked corrupt; inspect it with 'qemu-img check'");
            }

            if (info.BackingFilename is { } backing)
            {
                if (backing.StartsWith("json:", StringComparison.Ordinal))
                {
                    throw new OfflineExportException(ErrorKind.InvalidImage, $"{path}: backing file names using the json: pseudo-protocol are not supported");
                }

                if (string.IsNullOrEmpty(info.BackingFilenameFormat))
                {
                    throw new OfflineExportException(ErrorKind.InvalidImage,
                        $"{path}: the format of its backing file {backing} is not recorded and will not be guessed; record it with 'qemu-img rebase -u -b {backing} -F qcow2 {path}' (or -F raw)");
                }

                if (i + 1 >= chain.Count)
                {
                    throw new OfflineExportException(ErrorKind.InvalidImage, $"{path}: its backing file {backing} is missing from the chain");
                }

                if (chain[i + 1].Format != info.BackingFilenameFormat)
                {
                    throw new OfflineExportException(ErrorKind.InvalidImage,
                        $"{path}: backing file {chain[i + 1].Filename} is recorded as {info.BackingFilenameFormat} but is {chain[i + 1].Format}");
                }
            }
            else if (i + 1 < chain.Count)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage, $"{path}: qemu-img listed a layer below an image without a backing file");
            }

            // The top's format is the one its caller passed to qemu-img (probed only when nobody stated it); every lower one is the recorded format.
            layers.Add(new ChainLayer(i, path, info.Format, info, nodePrefix));
        }

        return layers;
    }

    private static IEnumerable<(ChainLayer, string)> ValidateBitmap(IReadOnlyList<ChainLayer> layers, string name, List<string> notes)
    {
        var top = layers[0];
        var start = 0;
        if (!top.Info.Bitmaps.Any(b => b.Name == name))
        {
            // An external snapshot puts a layer without bitmaps on top. If it (and any like it) holds nothing,
            // nothing was written since the snapshot and the layer below still saw every write: exact.
            var holder = layers.TakeWhile(l => l.Format == "qcow2").FirstOrDefault(l => l.Info.Bitmaps.Any(b => b.Name == name));
            if (holder is null)
            {
                var available = top.Info.Bitmaps.Count == 0 ? "none" : string.Join(", ", top.Info.Bitmaps.Select(b => b.Name));
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint, $"bitmap '{name}' not found in {top.Path}; available: {available}");
            }

            if (layers.Take(holder.Index).FirstOrDefault(l => !l.Info.HoldsNoClusters) is { } written)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint,
                    $"bitmap '{name}' is in {holder.Path} but not in {written.Path} above it (an external snapshot), and {written.Path} holds data written since, which no checkpoint recorded; take a full export. " +
                    $"To keep incrementals across a snapshot, add the checkpoint to the new layer right after the snapshot, before the VM starts: qemu-img bitmap --add --enable {top.Path} {name}");
            }

            notes.Add($"checkpoint {name} is read from {holder.Path}: {string.Join(", ", layers.Take(holder.Index).Select(l => l.Path))} above it (an external snapshot) holds no data yet, so no write escaped it");
            start = holder.Index;
        }

        var sources = new List<(ChainLayer, string)>();
        ChainLayer? firstWithout = null;
        foreach (var layer in layers.Skip(start))
        {
            if (layer.Format != "qcow2")
            {
                break; // Rule 6: a raw base holds no bitmaps; the walk ends here.
            }

            var bitmap = layer.Info.Bitmaps.FirstOrDefault(b => b.Name == name);
            if (bitmap is null)
            {
                firstWithout ??= layer;
                continue;
            }

            if (firstWithout is not null)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint,
                    $"bitmap '{name}' is missing from {firstWithout.Path} but present in {layer.Path} below it: writes to {firstWithout.Path} were not tracked; take a full export");
            }

            if (bitmap.IsInUse)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint,
                    $"bitmap '{name}' in {layer.Path} is inconsistent (in-use): the image was not closed cleanly, so changes may be missing; take a full export");
            }

            if (!bitmap.IsEnabled)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint,
                    $"bitmap '{name}' in {layer.Path} is disabled (no 'auto' flag), so it did not record every write; take a full export");
            }

            if (bitmap.Granularity <= 0)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint, $"bitmap '{name}' in {layer.Path} has no granularity recorded");
            }

            if (layer.Info.VirtualSize != top.Info.VirtualSize)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint,
                    $"bitmap '{name}' in {layer.Path} covers {layer.Info.VirtualSize} bytes but the disk is {top.Info.VirtualSize} bytes (resized since the checkpoint); take a full export");
            }

            sources.Add((layer, name));
        }

        return sources;
    }
}
