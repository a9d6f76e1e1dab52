using System.Text.Json.Nodes;

namespace OfflineExport.Qmp;

/// <summary>An asynchronous event: <c>{"event": NAME, "data": {…}, "timestamp": {…}}</c>.</summary>
/// <param name="Name">The event name, e.g. "BLOCK_EXPORT_DELETED".</param>
/// <param name="Data">The event's data object, if any.</param>
/// <param name="Timestamp">When the server emitted it.</param>
public sealed record QmpEvent(string Name, JsonObject? Data, DateTimeOffset Timestamp) : QmpMessage;
