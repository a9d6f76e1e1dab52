namespace OfflineExport.Cli.Commands;

/// <summary>What <c>verify</c> was asked.</summary>
/// <param name="Image">The disk's top image.</param>
/// <param name="Output">The backup to compare with it.</param>
/// <param name="Json">--json: print the verdict as one JSON object.</param>
/// <param name="Format">--format: IMAGE's format as stated, or null to let qemu detect it.</param>
public sealed record VerifyArguments(string Image, string Output, bool Json, string? Format = null);
