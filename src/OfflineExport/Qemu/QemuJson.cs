using System.Text.Json;

namespace OfflineExport.Qemu;

/// <summary>Reads qemu-img's JSON output (names and settings in <see cref="QemuJsonContext"/>).</summary>
public static class QemuJson
{
    /// <summary>Parses the output of <c>qemu-img info --backing-chain --output=json</c> (an array, top first).</summary>
    public static IReadOnlyList<ImageInfo> ParseChain(string json)
    {
        var trimmed = json.TrimStart();
        // Without --backing-chain qemu prints one object instead of an array.
        return trimmed.StartsWith('[')
            ? JsonSerializer.Deserialize(json, QemuJsonContext.Default.ListImageInfo) ?? []
            : [JsonSerializer.Deserialize(json, QemuJsonContext.Default.ImageInfo) ?? throw new JsonException("empty qemu-img info output")];
    }

    /// <summary>Parses the output of <c>qemu-img check --output=json</c>.</summary>
    public static ImageCheckReport ParseCheck(string json) =>
        JsonSerializer.Deserialize(json, QemuJsonContext.Default.ImageCheckReport) ?? throw new JsonException("empty qemu-img check output");
}
