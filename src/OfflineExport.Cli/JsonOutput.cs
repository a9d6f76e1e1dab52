using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OfflineExport.Cli;

/// <summary>The JSON printed by --json: camelCase, enums as lower-case words, one indented object per command.</summary>
public static class JsonOutput
{
    // Relaxed escaping: this JSON goes to a terminal or a script, never into HTML, so "+00:00" and "it's" stay readable.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="value"/> as one JSON document and a newline.</summary>
    public static async Task WriteAsync(TextWriter writer, JsonNode value) =>
        await writer.WriteLineAsync(value.ToJsonString(Indented)).ConfigureAwait(false);
}
