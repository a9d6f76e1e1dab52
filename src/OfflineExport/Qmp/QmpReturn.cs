using System.Text.Json.Nodes;

namespace OfflineExport.Qmp;

/// <summary>A successful reply: <c>{"return": …, "id": …}</c>.</summary>
/// <param name="Id">The id of the command it answers, or null when the command had none.</param>
/// <param name="Value">The returned value (often an empty object).</param>
public sealed record QmpReturn(string? Id, JsonNode? Value) : QmpMessage;
