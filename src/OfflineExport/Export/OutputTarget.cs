namespace OfflineExport.Export;

/// <summary>The new backup an export writes: its partial file, created empty by this run, and the backing name its header records.</summary>
/// <param name="Partial">The partial output (<see cref="PartialOutput.CreateEmpty"/> already called).</param>
/// <param name="RecordedBacking">The previous backup as its header records it (relative to its folder), or null for a full export.</param>
public sealed record OutputTarget(PartialOutput Partial, string? RecordedBacking);
