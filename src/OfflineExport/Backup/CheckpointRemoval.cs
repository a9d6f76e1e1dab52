using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// Removes a folder's checkpoints from every qcow2 layer of a disk's chain that holds them — not only the top:
/// after an external snapshot the older checkpoints sit in the layer below. A disk that is gone, is another
/// disk now, or is in use (a running VM) is left alone with a warning: the points never depend on it.
/// </summary>
public static class CheckpointRemoval
{
    /// <summary>"disk: name", with the layer when it is not the top one.</summary>
    public static string Describe(string disk, string name, string? layer) => layer is null ? $"{disk}: {name}" : $"{disk}: {name} (in {layer})";

    /// <summary>Removes the bitmaps <paramref name="remove"/> selects; returns each one removed, with its layer when it is not the top one.</summary>
    public static async Task<IReadOnlyList<(string Name, string? Layer)>> RemoveAsync(
        QemuImg qemuImg, DiskRecord disk, Func<BitmapInfo, bool> remove, List<string> warnings, CancellationToken cancellationToken)
    {
        if (disk.KnownFormat == ImageFormats.Raw)
        {
            return []; // a raw disk holds no checkpoint
        }

        if (!disk.Points.Any() && disk.CurrentCheckpoint is null)
        {
            return [];
        }

        var image = disk.Source;
        if (!File.Exists(image))
        {
            warnings.Add($"{disk.Name}: {image} is gone, so this folder's checkpoints in it (if it comes back) were not removed");
            return [];
        }

        var removed = new List<(string Name, string? Layer)>();
        try
        {
            var chain = await qemuImg.GetBackingChainAsync(image, disk.KnownFormat, cancellationToken).ConfigureAwait(false);
            var folder = Path.GetDirectoryName(image)!;
            var layers = chain.Select(layer => (layer, path: Path.GetFullPath(layer.Filename, folder))).ToList();
            if (disk.Latest?.Disk is { } recorded && !layers.Any(l => DiskIdentity.Of(l.path, l.layer.Format, l.layer.VirtualSize) is { } now && now.IsSameFileAs(recorded)))
            {
                warnings.Add($"{disk.Name}: {image} is no longer the disk this folder backed up ({recorded.Describe()}); its checkpoints were left alone");
                return [];
            }

            if (!layers.Any(l => l.layer.Bitmaps.Any(remove)))
            {
                return [];
            }

            // A running VM's disk is never written: its checkpoints go at the next removal after it stops.
            QemuImageLocks.RefuseIfHeldForWriting(image);
            for (var i = 0; i < layers.Count; i++)
            {
                var (layer, path) = layers[i];
                foreach (var bitmap in layer.Bitmaps.Where(remove))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await qemuImg.RemoveBitmapAsync(path, layer.Format, bitmap.Name).ConfigureAwait(false);
                    removed.Add((bitmap.Name, i == 0 ? null : path));
                }
            }
        }
        catch (Exception ex) when (ex is OfflineExportException or QemuImgException or System.Text.Json.JsonException)
        {
            warnings.Add($"{disk.Name}: this folder's old checkpoints could not all be removed from {image}: {(ex is QemuImgException q ? ChainReader.QemuErrorText(q.StandardError) : ex.Message)}; the next forget tries again");
        }

        return removed;
    }
}
