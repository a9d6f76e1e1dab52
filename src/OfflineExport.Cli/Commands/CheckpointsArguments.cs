namespace OfflineExport.Cli.Commands;

/// <summary>What <c>checkpoints</c> was asked.</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="RemoveAll">--remove-all: remove every checkpoint of this folder from its disks.</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record CheckpointsArguments(string Folder, bool RemoveAll, bool Json);
