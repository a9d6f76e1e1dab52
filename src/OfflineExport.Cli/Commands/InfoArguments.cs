namespace OfflineExport.Cli.Commands;

/// <summary>What <c>info</c> was asked.</summary>
/// <param name="Image">The disk's top image.</param>
/// <param name="Format">Its format as stated (--format), or null to detect it.</param>
/// <param name="Json">--json: print the report as one JSON object.</param>
public sealed record InfoArguments(string Image, string? Format, bool Json);
