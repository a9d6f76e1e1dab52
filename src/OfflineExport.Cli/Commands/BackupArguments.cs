using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary>What <c>backup</c> was asked, bound from its options.</summary>
/// <param name="Request">The backup run (its images, or a domain XML, and the folder).</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record BackupArguments(BackupRequest Request, bool Json);
