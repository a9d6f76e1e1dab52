namespace OfflineExport.Cli.Commands;

/// <summary>What <c>check</c> was asked.</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="ReadData">--read-data: also compare every file's SHA-256 with the recorded one.</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record CheckArguments(string Folder, bool ReadData, bool Json);
