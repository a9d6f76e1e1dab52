using System.Text.Json;
using System.Text.Json.Nodes;
using OfflineExport.Backup;
using OfflineExport.Export;
using static OfflineExport.Cli.JsonValues;

namespace OfflineExport.Cli;

/// <summary>The objects --json prints for each command's result, in one place so every verb names things alike.</summary>
public static class ResultJson
{
    /// <summary>An export's result.</summary>
    public static JsonObject Of(ExportResult result) => new()
    {
        ["image"] = result.Image,
        ["output"] = result.Output,
        ["format"] = result.Format,
        ["formatOrigin"] = Name(result.FormatOrigin),
        ["mode"] = Name(result.Mode),
        ["bitmaps"] = Array(result.Bitmaps),
        ["backing"] = result.Backing,
        ["virtualSize"] = result.VirtualSize,
        ["plannedBytes"] = result.PlannedBytes,
        ["plannedDataBytes"] = result.PlannedDataBytes,
        ["plannedZeroBytes"] = result.PlannedZeroBytes,
        ["bytesCopied"] = result.BytesCopied,
        ["bytesZeroed"] = result.BytesZeroed,
        ["requests"] = result.Requests,
        ["startTime"] = result.StartTime,
        ["durationSeconds"] = Seconds(result.Duration),
        ["verified"] = result.Verified,
        ["dryRun"] = result.DryRun,
        ["notes"] = Array(result.Notes),
    };

    /// <summary>A backup run's result.</summary>
    public static JsonObject Of(BackupResult result) => new()
    {
        ["target"] = result.Target,
        ["dryRun"] = result.Disks.Any(d => d.Point is null),
        ["disks"] = Array(result.Disks.Select(d => new JsonObject
        {
            ["disk"] = d.Plan.Disk.Name,
            ["image"] = d.Plan.Disk.Image,
            ["format"] = d.Plan.Disk.Chain[0].Format,
            ["formatOrigin"] = Name(d.Plan.Disk.FormatOrigin),
            ["point"] = d.Plan.Number,
            ["level"] = Name(d.Plan.Level),
            ["reason"] = d.Plan.Reason,
            ["file"] = d.Plan.File,
            ["backingPoint"] = d.Plan.BackingPoint?.Number,
            ["checkpointsUsed"] = Array(d.Plan.Checkpoints),
            ["checkpointCreated"] = d.Point?.CheckpointCreated,
            ["plannedBytes"] = d.Export.PlannedBytes,
            ["bytesCopied"] = d.Export.BytesCopied,
            ["bytesZeroed"] = d.Export.BytesZeroed,
            ["durationSeconds"] = Seconds(d.Export.Duration),
            ["verified"] = d.Export.Verified,
        })),
        ["removedCheckpoints"] = Array(result.RemovedCheckpoints),
        ["notes"] = Array(result.Notes),
        ["warnings"] = Array(result.Skipped.Concat(result.SkippedData).Concat(result.Warnings)),
        ["durationSeconds"] = Seconds(result.Duration),
    };

    /// <summary>A restore's result.</summary>
    public static JsonObject Of(RestoreResult result) => new()
    {
        ["disk"] = result.Disk,
        ["point"] = result.Point.Number,
        ["level"] = Name(result.Point.Level),
        ["output"] = result.Output,
        ["chainLength"] = result.ChainLength,
        ["filesChecksummed"] = result.FilesChecksummed,
        ["notes"] = Array(result.Notes),
        ["durationSeconds"] = Seconds(result.Duration),
        ["verified"] = true,
    };

    /// <summary>A domain restore's result.</summary>
    public static JsonObject Of(DomainRestoreResult result) => new()
    {
        ["domainXml"] = result.DomainXml,
        ["checkpoint"] = result.Checkpoint,
        ["disks"] = Array(result.Disks.Select(Of)),
    };

    /// <summary>A folder check's result.</summary>
    public static JsonObject Of(FolderCheckResult result) => new()
    {
        ["folder"] = result.Folder,
        ["healthy"] = result.Healthy,
        ["diskCount"] = result.Disks,
        ["pointCount"] = result.Points,
        ["readData"] = result.ReadData,
        ["withoutChecksum"] = result.WithoutChecksum,
        ["bytesRead"] = result.BytesRead,
        ["damaged"] = Array(result.Damaged.Select(Of)),
        ["durationSeconds"] = Seconds(result.Duration),
    };

    /// <summary>One damaged point, as <c>check</c> and <c>list</c> print it.</summary>
    public static JsonObject Of(PointDamage damage) => new()
    {
        ["disk"] = damage.Disk,
        ["point"] = damage.Point,
        ["file"] = damage.File,
        ["problem"] = damage.What,
        ["takesDown"] = Array(damage.TakesDown),
    };

    /// <summary>A forget run's result.</summary>
    public static JsonObject Of(ForgetResult result) => new()
    {
        ["folder"] = result.Folder,
        ["dryRun"] = result.DryRun,
        ["disks"] = Array(result.Disks.Select(d => new JsonObject
        {
            ["disk"] = d.Disk.Name,
            ["kept"] = Array(d.Kept.OrderBy(k => k.Key).Select(k => new JsonObject { ["point"] = k.Key, ["rules"] = Array(k.Value) })),
            ["forgotten"] = Array(d.Removed.Select(p => p.Number)),
            ["merged"] = Array(d.Merges.Select(m => new JsonObject
            {
                ["point"] = m.Point.Number,
                ["backingPoint"] = m.NewBacking?.Number,
                ["absorbed"] = Array(m.Absorbed.Select(p => p.Number).Order()),
            })),
        })),
        ["bytesFreed"] = result.BytesFreed,
        ["removedCheckpoints"] = Array(result.RemovedCheckpoints),
        ["notes"] = Array(result.Notes),
        ["warnings"] = Array(result.Warnings),
        ["durationSeconds"] = Seconds(result.Duration),
    };

    /// <summary>The checkpoints of a folder's disks.</summary>
    public static JsonObject Of(string folder, IReadOnlyList<DiskCheckpoints> disks) => new()
    {
        ["folder"] = folder,
        ["disks"] = Array(disks.Select(d => new JsonObject
        {
            ["disk"] = d.Disk,
            ["image"] = d.Image,
            ["problem"] = d.Problem,
            ["checkpoints"] = Array(d.Checkpoints.Select(c => new JsonObject
            {
                ["name"] = c.Name,
                ["layer"] = c.Layer,
                ["owner"] = Name(c.Owner),
                ["point"] = c.Point,
                ["current"] = c.Current,
                ["flags"] = Array(c.Flags),
            })),
        })),
    };

    /// <summary>What <c>checkpoints --remove-all</c> removed.</summary>
    public static JsonObject OfRemoval(string folder, IReadOnlyList<string> removed, IReadOnlyList<string> warnings) => new()
    {
        ["folder"] = folder,
        ["removedCheckpoints"] = Array(removed),
        ["warnings"] = Array(warnings),
    };

    /// <summary>A folder's manifest with the damage <c>list</c> found in its headers.</summary>
    public static JsonObject Of(string folder, BackupManifest manifest, IReadOnlyList<PointDamage> damage) => new()
    {
        ["folder"] = folder,
        ["formatVersion"] = manifest.FormatVersion,
        // The manifest's own encoding, so list --json shows points exactly as manifest.json records them;
        // only a disk's name and image take the keys every other verb gives them.
        ["disks"] = WithVerbKeys(JsonSerializer.SerializeToNode(manifest.Disks, ManifestJsonContext.Default.IReadOnlyListDiskRecord)),
        ["damaged"] = Array(damage.Select(Of)),
    };

    /// <summary>A disk image's chain and checkpoints (<c>info</c>).</summary>
    public static JsonObject Of(ImageReport report) => new()
    {
        ["image"] = report.Image,
        ["format"] = report.Format,
        ["formatOrigin"] = Name(report.FormatOrigin),
        ["inUse"] = report.InUse is not null,
        ["inUseReason"] = report.InUse,
        ["chainProblem"] = report.ChainProblem,
        ["layers"] = Array(report.Layers.Select(l => new JsonObject
        {
            ["filename"] = l.Filename,
            ["format"] = l.Format,
            ["virtualSize"] = l.VirtualSize,
            ["actualSize"] = l.ActualSize,
            ["clusterSize"] = l.ClusterSize,
            ["backingFilename"] = l.BackingFilename,
            ["backingFormat"] = l.BackingFilenameFormat,
            ["bitmaps"] = Array(l.Bitmaps.Select(b => new JsonObject { ["name"] = b.Name, ["granularity"] = b.Granularity, ["flags"] = Array(b.Flags) })),
        })),
        ["bitmaps"] = Array(report.Bitmaps.Select(b => new JsonObject { ["name"] = b.Name, ["valid"] = b.Valid, ["reason"] = b.Reason })),
    };

    /// <summary>A comparison's verdict (<c>verify</c>).</summary>
    public static JsonObject Of(string image, string output, bool identical, string message) => new()
    {
        ["image"] = image,
        ["output"] = output,
        ["identical"] = identical,
        ["message"] = message,
    };

    /// <summary>Renames each manifest disk's "name" and "source" to "disk" and "image", in place.</summary>
    private static JsonNode? WithVerbKeys(JsonNode? disks)
    {
        foreach (var disk in disks?.AsArray().OfType<JsonObject>() ?? [])
        {
            var at = 0;
            foreach (var (from, to) in new[] { ("name", "disk"), ("source", "image") })
            {
                if (disk.Remove(from, out var value))
                {
                    disk.Insert(at++, to, value);
                }
            }
        }

        return disks;
    }

    /// <summary>A failed command: its one-line message and exit code.</summary>
    public static JsonObject OfError(string message, int exitCode) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["exitCode"] = exitCode, ["type"] = ExitCodes.KindOf(exitCode) },
    };
}
