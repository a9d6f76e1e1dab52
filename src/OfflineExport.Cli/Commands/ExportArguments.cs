using OfflineExport.Export;

namespace OfflineExport.Cli.Commands;

/// <summary>What <c>export</c> was asked, bound from its options.</summary>
/// <param name="Request">The export to run.</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record ExportArguments(ExportRequest Request, bool Json);
