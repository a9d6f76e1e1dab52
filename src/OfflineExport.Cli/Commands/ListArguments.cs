namespace OfflineExport.Cli.Commands;

/// <summary>What <c>list</c> was asked.</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="Json">--json: print the manifest as one JSON object.</param>
public sealed record ListArguments(string Folder, bool Json);
