using OfflineExport.Export;

namespace OfflineExport.Backup;

/// <summary>Progress of one disk within a backup run.</summary>
/// <param name="Disk">The disk's name.</param>
/// <param name="Index">Its position in the run (0-based).</param>
/// <param name="Count">Disks in the run.</param>
/// <param name="Export">The export's progress.</param>
public sealed record DiskProgress(string Disk, int Index, int Count, ExportProgress Export);
