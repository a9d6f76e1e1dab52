using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary>What <c>restore</c> was asked, bound from its options.</summary>
/// <param name="Request">The restore to run.</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record RestoreArguments(RestoreRequest Request, bool Json);
