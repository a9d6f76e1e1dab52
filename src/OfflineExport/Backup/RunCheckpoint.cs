namespace OfflineExport.Backup;

/// <summary>A checkpoint a backup run is adding to a disk, as its <see cref="BackupRunRecord"/> lists it.</summary>
/// <param name="Disk">The disk's name in the folder.</param>
/// <param name="Image">The image the bitmap goes into.</param>
/// <param name="Format">The image's format (never probed again when cleaning up).</param>
/// <param name="Name">The bitmap's name.</param>
public sealed record RunCheckpoint(string Disk, string Image, string Format, string Name);
