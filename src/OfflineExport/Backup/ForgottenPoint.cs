namespace OfflineExport.Backup;

/// <summary>A point a forget run removes from the manifest, and its file from the folder.</summary>
/// <param name="Disk">The disk's name.</param>
/// <param name="Point">The point's number.</param>
/// <param name="File">Its file (a plain name in the folder).</param>
public sealed record ForgottenPoint(string Disk, int Point, string File);
