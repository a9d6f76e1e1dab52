using System.Text.Json.Nodes;

namespace OfflineExport.Qmp;

/// <summary>A command waiting for its reply, keyed by its id in <see cref="QmpClient"/>.</summary>
internal sealed class QmpPendingCommand(string command)
{
    /// <summary>The command's name, for error messages.</summary>
    public string Command { get; } = command;

    /// <summary>Completed by the reader loop with the return value or the error.</summary>
    public TaskCompletionSource<JsonNode?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
