using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>The objects --json prints for each command's result.</summary>
public static class ResultJson
{
    /// <summary>An export's result.</summary>
    public static object Of(ExportResult result) => new
    {
        image = result.Image,
        output = result.Output,
        format = result.Format,
        formatOrigin = result.FormatOrigin,
        mode = result.Mode,
        bitmaps = result.Bitmaps,
        backing = result.Backing,
        virtualSize = result.VirtualSize,
        plannedBytes = result.PlannedBytes,
        plannedDataBytes = result.PlannedDataBytes,
        plannedZeroBytes = result.PlannedZeroBytes,
        bytesCopied = result.BytesCopied,
        bytesZeroed = result.BytesZeroed,
        requests = result.Requests,
        startTime = result.StartTime,
        durationSeconds = Math.Round(result.Duration.TotalSeconds, 3),
        verified = result.Verified,
        dryRun = result.DryRun,
        notes = result.Notes,
    };

    /// <summary>A backup run's result.</summary>
    public static object Of(BackupResult result) => new
    {
        target = result.Target,
        dryRun = result.Disks.Any(d => d.Point is null),
        disks = result.Disks.Select(d => new
        {
            disk = d.Plan.Disk.Name,
            image = d.Plan.Disk.Image,
            format = d.Plan.Disk.Chain[0].Format,
            formatOrigin = d.Plan.Disk.FormatOrigin,
            point = d.Plan.Number,
            level = d.Plan.Level,
            reason = d.Plan.Reason,
            file = d.Plan.File,
            backingPoint = d.Plan.BackingPoint?.Number,
            checkpointsUsed = d.Plan.Checkpoints,
            checkpointCreated = d.Point?.CheckpointCreated,
            plannedBytes = d.Export.PlannedBytes,
            bytesCopied = d.Export.BytesCopied,
            bytesZeroed = d.Export.BytesZeroed,
            durationSeconds = Math.Round(d.Export.Duration.TotalSeconds, 3),
            verified = d.Export.Verified,
        }),
        removedCheckpoints = result.RemovedCheckpoints,
        notes = result.Notes,
        warnings = result.Skipped.Concat(result.Warnings),
        durationSeconds = Math.Round(result.Duration.TotalSeconds, 3),
    };

    /// <summary>A restore's result.</summary>
    public static object Of(RestoreResult result) => new
    {
        disk = result.Disk,
        point = result.Point.Number,
        level = result.Point.Level,
        output = result.Output,
        chainLength = result.ChainLength,
        filesChecksummed = result.FilesChecksummed,
        durationSeconds = Math.Round(result.Duration.TotalSeconds, 3),
        verified = true,
    };

    /// <summary>A domain restore's result.</summary>
    public static object Of(DomainRestoreResult result) => new
    {
        domainXml = result.DomainXml,
        checkpoint = result.Checkpoint,
        disks = result.Disks.Select(Of),
    };

    /// <summary>A folder check's result.</summary>
    public static object Of(FolderCheckResult result) => new
    {
        folder = result.Folder,
        healthy = result.Healthy,
        disks = result.Disks,
        points = result.Points,
        readData = result.ReadData,
        withoutChecksum = result.WithoutChecksum,
        bytesRead = result.BytesRead,
        damaged = result.Damaged.Select(d => new { disk = d.Disk, point = d.Point, file = d.File, problem = d.What, takesDown = d.TakesDown }),
        durationSeconds = Math.Round(result.Duration.TotalSeconds, 3),
    };

    /// <summary>A forget run's result.</summary>
    public static object Of(ForgetResult result) => new
    {
        folder = result.Folder,
        dryRun = result.DryRun,
        disks = result.Disks.Select(d => new
        {
            disk = d.Disk.Name,
            kept = d.Kept.OrderBy(k => k.Key).Select(k => new { point = k.Key, rules = k.Value }),
            forgotten = d.Removed.Select(p => p.Number),
            merged = d.Merges.Select(m => new { point = m.Point.Number, backingPoint = m.NewBacking?.Number, absorbed = m.Absorbed.Select(p => p.Number).Order() }),
        }),
        bytesFreed = result.BytesFreed,
        removedCheckpoints = result.RemovedCheckpoints,
        notes = result.Notes,
        warnings = result.Warnings,
        durationSeconds = Math.Round(result.Duration.TotalSeconds, 3),
    };

    /// <summary>The checkpoints of a folder's disks.</summary>
    public static object Of(string folder, IReadOnlyList<DiskCheckpoints> disks) => new
    {
        folder,
        disks = disks.Select(d => new
        {
            disk = d.Disk,
            image = d.Image,
            problem = d.Problem,
            checkpoints = d.Checkpoints.Select(c => new { name = c.Name, layer = c.Layer, owner = c.Owner, point = c.Point, current = c.Current, flags = c.Flags }),
        }),
    };
}
