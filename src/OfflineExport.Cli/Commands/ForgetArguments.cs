using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary>What <c>forget</c> was asked.</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="Policy">The --keep-… rules.</param>
/// <param name="DryRun">--dry-run: say what would happen, change nothing.</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record ForgetArguments(string Folder, RetentionPolicy Policy, bool DryRun, bool Json);
