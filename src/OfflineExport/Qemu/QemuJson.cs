using System.Text.Json;

namespace OfflineExport.Qemu;

/// <summary>JSON settings matching qemu's output: kebab-case names, unknown fields ignored.</summary>
public static class QemuJson
{
    /// <summary>Options for reading <c>qemu-img --output=json</c>.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
        PropertyNameCaseInsensitive = false,
    };

    /// <summary>Parses the output of <c>qemu-img info --backing-chain --output=json</c> (an array, top first).</summary>
    public static IReadOnlyList<ImageInfo> ParseChain(string json)
    {
        var trimmed = json.TrimStart();
        // Without --backing-chain qemu prints one object instead of an array.
        return trimmed.StartsWith('[')
            ? JsonSerializer.Deserialize<List<ImageInfo>>(json, Options) ?? []
            : [JsonSerializer.Deserialize<ImageInfo>(json, Options) ?? throw new JsonException("empty qemu-img info output")];
    }
}
