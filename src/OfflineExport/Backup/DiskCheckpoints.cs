namespace OfflineExport.Backup;

/// <summary>The checkpoints in every layer of one disk of a backup folder.</summary>
/// <param name="Disk">The disk's name.</param>
/// <param name="Image">Its image (the latest point's source).</param>
/// <param name="Checkpoints">What was found, top layer first.</param>
/// <param name="Problem">Why the image could not be read (gone, unreadable), or null.</param>
public sealed record DiskCheckpoints(string Disk, string Image, IReadOnlyList<CheckpointEntry> Checkpoints, string? Problem);
