namespace OfflineExport.Export;

/// <summary>The new backup an export writes: created in the daemon under its temporary name.</summary>
/// <param name="Output">Its final name (the one errors name).</param>
/// <param name="PartialPath">The temporary name it is created and written under.</param>
/// <param name="RecordedBacking">The previous backup as its header records it (relative to its folder), or null for a full export.</param>
/// <param name="Created">The empty file this process created under <paramref name="PartialPath"/>: the only file the daemon may write.</param>
public sealed record OutputTarget(string Output, string PartialPath, string? RecordedBacking, IO.FileIdentity? Created);
