using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

/// <summary>Builds manifest records for tests: points of a disk "vda" shaped like those the backup runner records.</summary>
internal static class BackupRecords
{
    public const string DiskName = "vda";
    public const string Image = "/var/lib/vm/vda.qcow2";

    /// <summary>A point named like the planner names them; <paramref name="created"/> is the checkpoint it started.</summary>
    public static PointRecord Point(int number, PointLevel level, string? created, int? backing = null, params string[] used) => new()
    {
        Number = number,
        File = $"{DiskName}.{number}.{level.ToString().ToLowerInvariant()}.qcow2",
        Level = level,
        BackingPoint = backing,
        CheckpointsUsed = used,
        CheckpointCreated = created,
        Source = Image,
        VirtualSize = Export.ChainBuilder.DiskSize,
        ToolVersion = "offline-export 0.1.0",
    };

    /// <summary>A disk record whose current checkpoint is the one the latest point started.</summary>
    public static DiskRecord Disk(params PointRecord[] points) => new()
    {
        Name = DiskName,
        Source = Image,
        VirtualSize = Export.ChainBuilder.DiskSize,
        CurrentCheckpoint = points.Length == 0 ? null : points[^1].CheckpointCreated,
        Points = points,
    };

    /// <summary>A manifest holding exactly <paramref name="disks"/>.</summary>
    public static BackupManifest Manifest(params DiskRecord[] disks) => new() { Disks = disks };
}
