using System.Text.Json.Nodes;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>What a run's log (<c>ExportOptions.Log</c>) shows it sent the daemon: lines "qmp → {…}".</summary>
public static class LoggedQmp
{
    /// <summary>The arguments of every <c>blockdev-add</c> sent, in order.</summary>
    public static IReadOnlyList<JsonObject> BlockdevAdds(IEnumerable<string> log) =>
        log.Where(l => l.Contains("\"execute\":\"blockdev-add\"", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l[l.IndexOf('{', StringComparison.Ordinal)..])!["arguments"]!.AsObject())
            .ToList();

    /// <summary>Whether a node's cache option <paramref name="name"/> is set (absent: false).</summary>
    public static bool CacheOption(JsonObject node, string name) => node["cache"]?[name] is JsonNode value && (bool)value;
}
