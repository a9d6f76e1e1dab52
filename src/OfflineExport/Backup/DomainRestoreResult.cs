namespace OfflineExport.Backup;

/// <summary>What a domain restore wrote.</summary>
/// <param name="Disks">One restore per disk of the run.</param>
/// <param name="DomainXml">The domain XML whose disks point at the restored images.</param>
/// <param name="Checkpoint">The checkpoint that names the run.</param>
public sealed record DomainRestoreResult(IReadOnlyList<RestoreResult> Disks, string DomainXml, string Checkpoint);
