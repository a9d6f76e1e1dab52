namespace OfflineExport.Backup;

/// <summary>What <c>check</c> found.</summary>
/// <param name="Folder">The backup folder.</param>
/// <param name="Disks">How many disks it holds.</param>
/// <param name="Points">How many points it holds.</param>
/// <param name="ReadData">True when every file was read whole and its checksum compared.</param>
/// <param name="Damaged">Every damaged point, in manifest order (empty: healthy).</param>
/// <param name="WithoutChecksum">Points written before checksums were recorded (their data cannot be proved).</param>
/// <param name="BytesRead">Bytes read for checksums.</param>
/// <param name="Duration">How long it took.</param>
public sealed record FolderCheckResult(string Folder, int Disks, int Points, bool ReadData, IReadOnlyList<PointDamage> Damaged, int WithoutChecksum, long BytesRead, TimeSpan Duration)
{
    /// <summary>True when no point is damaged.</summary>
    public bool Healthy => Damaged.Count == 0;
}
