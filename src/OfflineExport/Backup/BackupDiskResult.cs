using OfflineExport.Export;

namespace OfflineExport.Backup;

/// <summary>What a backup run did for one disk.</summary>
/// <param name="Plan">What was planned.</param>
/// <param name="Point">The point recorded (null for a dry run).</param>
/// <param name="Export">The export's figures.</param>
public sealed record BackupDiskResult(DiskPlan Plan, PointRecord? Point, ExportResult Export);
