using System.Text.Json.Nodes;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// How qemu-img is to open a validated chain so that it reads what the daemon reads: by its top's name when qemu's
/// own resolution gives the same files, else as a <c>json:</c> description that names every layer's file, format,
/// backing and external data file.
/// </summary>
public static class ChainDescription
{
    /// <summary>
    /// The top's path, or a <c>json:</c> description when some layer has an external data file: qemu 7.2 takes a
    /// relative data-file name from its working folder, where <see cref="ChainLayer.DataFilePath"/> takes it from
    /// the layer's own, as the daemon opens it.
    /// </summary>
    /// <param name="layers">The validated chain, top first.</param>
    public static string QemuImgName(IReadOnlyList<ChainLayer> layers)
    {
        if (layers.All(l => l.DataFilePath is null))
        {
            return layers[0].Path;
        }

        JsonNode? below = null;
        for (var i = layers.Count - 1; i >= 0; i--)
        {
            var layer = layers[i];
            var node = new JsonObject
            {
                ["driver"] = layer.Format,
                ["file"] = File(layer.Path),
            };
            if (layer.Format == ImageFormats.Qcow2)
            {
                node["backing"] = below;
                if (layer.DataFilePath is { } dataFile)
                {
                    node["data-file"] = File(dataFile);
                }
            }

            below = node;
        }

        return QemuImg.JsonName((JsonObject)below!);
    }

    private static JsonObject File(string path) => new() { ["driver"] = QemuImg.Protocol(path), ["filename"] = path };
}
