using System.Text.Json;
using System.Text.Json.Nodes;

namespace OfflineExport.Cli;

/// <summary>The JSON printed by --json: camelCase, enums as lower-case words, one indented object per command.</summary>
public static class JsonOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="value"/> as one JSON document and a newline.</summary>
    public static async Task WriteAsync(TextWriter writer, JsonNode value) =>
        await writer.WriteLineAsync(value.ToJsonString(Indented)).ConfigureAwait(false);
}
