using System.Text.Json;
using System.Text.Json.Serialization;

namespace OfflineExport.Cli;

/// <summary>The JSON printed by --json: camelCase, enums as lower-case words, one object per command.</summary>
public static class JsonOutput
{
    /// <summary>The serializer settings.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Writes <paramref name="value"/> as one JSON document and a newline.</summary>
    public static async Task WriteAsync(TextWriter writer, object value) =>
        await writer.WriteLineAsync(JsonSerializer.Serialize(value, Options)).ConfigureAwait(false);
}
