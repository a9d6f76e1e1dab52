using System.Text.Json;
using System.Text.Json.Nodes;

namespace OfflineExport.Cli;

/// <summary>
/// The few conversions --json needs to build its documents as JSON nodes: no reflection, so the native
/// binary prints exactly what the JIT-compiled one did.
/// </summary>
public static class JsonValues
{
    /// <summary>An enum value as its camelCase name ("incremental", "thisFolder").</summary>
    public static string Name<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    /// <summary>A duration in seconds, to the millisecond.</summary>
    public static double Seconds(TimeSpan duration) => Math.Round(duration.TotalSeconds, 3);

    /// <summary>A JSON array of strings.</summary>
    public static JsonArray Array(IEnumerable<string> items) => new(items.Select(i => (JsonNode?)i).ToArray());

    /// <summary>A JSON array of numbers.</summary>
    public static JsonArray Array(IEnumerable<int> items) => new(items.Select(i => (JsonNode?)i).ToArray());

    /// <summary>A JSON array of objects.</summary>
    public static JsonArray Array(IEnumerable<JsonObject> items) => new(items.Select(i => (JsonNode?)i).ToArray());
}
