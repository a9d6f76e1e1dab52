namespace OfflineExport.Cli.Commands;

/// <summary>What <c>restore</c> was asked, bound from its options.</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="Output">The one disk's standalone qcow2 to write, or null with <paramref name="DomainOut"/>.</param>
/// <param name="DomainOut">The folder for every disk of a domain's run and its domain.xml, or null.</param>
/// <param name="Point">The point (with --domain-out: the point of the first disk, or of <paramref name="Disk"/>, naming the run); null: the latest.</param>
/// <param name="Disk">The disk, for a folder of several (with --domain-out: the disk whose points <paramref name="Point"/> counts).</param>
/// <param name="Force">Replace outputs that exist.</param>
/// <param name="Json">--json: print the result as one JSON object.</param>
public sealed record RestoreArguments(string Folder, string? Output, string? DomainOut, int? Point, string? Disk, bool Force, bool Json);
