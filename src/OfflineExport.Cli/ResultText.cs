using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>Human summaries of results.</summary>
public static class ResultText
{
    /// <summary>A short summary of an export.</summary>
    public static string Describe(ExportResult result)
    {
        if (result.DryRun)
        {
            return $"dry run: {result.Mode.ToString().ToLowerInvariant()} export of {result.Image} would copy {Units.Bytes(result.PlannedDataBytes)} ({result.PlannedDataBytes} bytes) " +
                   $"and write {Units.Bytes(result.PlannedZeroBytes)} ({result.PlannedZeroBytes} bytes) of zeroes; nothing was written";
        }

        var mode = result.Mode.ToString().ToLowerInvariant();
        var since = result.Bitmaps.Count == 0 ? string.Empty : $" since {string.Join(" + ", result.Bitmaps)}";
        var backing = result.Backing is null ? string.Empty : $" (backing: {result.Backing})";
        var rate = result.Duration.TotalSeconds > 0 ? (result.BytesCopied + result.BytesZeroed) / result.Duration.TotalSeconds : 0;
        var verified = result.Verified ? "; verified identical with qemu-img compare" : string.Empty;
        return $"{mode} export{since} of {result.Image} -> {result.Output}{backing}: " +
               $"{Units.Bytes(result.BytesCopied)} copied, {Units.Bytes(result.BytesZeroed)} zeroed in {Units.Duration(result.Duration)} " +
               $"({Units.Bytes(rate)}/s){verified}";
    }

    /// <summary>A short summary of one disk of a backup run.</summary>
    public static string Describe(BackupDiskResult disk)
    {
        var level = disk.Plan.Level.ToString().ToLowerInvariant();
        var verb = disk.Point is null ? "would make" : "made";
        var verified = disk.Export.Verified ? "; verified" : string.Empty;
        var amount = disk.Point is null
            ? $"{Units.Bytes(disk.Export.PlannedBytes)} to copy ({disk.Export.PlannedBytes} bytes)"
            : $"{Units.Bytes(disk.Export.BytesCopied)} copied, {Units.Bytes(disk.Export.BytesZeroed)} zeroed in {Units.Duration(disk.Export.Duration)}";
        return $"{disk.Plan.Disk.Name}: {verb} point {disk.Plan.Number} ({level}: {disk.Plan.Reason}) -> {disk.Plan.File}: {amount}{verified}";
    }

    /// <summary>The last line of <c>check</c>: healthy or how many points are damaged, and what was checked.</summary>
    public static string Describe(FolderCheckResult result)
    {
        var what = result.ReadData
            ? $"files, links, qemu-img check and SHA-256 of {Units.Bytes(result.BytesRead)}"
            : "files, links and qemu-img check; --read-data also proves the data";
        var unproved = result.ReadData && result.WithoutChecksum > 0
            ? $"; {result.WithoutChecksum} point(s) predate checksums, their data is not proved"
            : string.Empty;
        var verdict = result.Healthy
            ? "healthy"
            : $"{result.Damaged.Count} of {result.Points} points damaged, {result.Damaged.SelectMany(d => d.TakesDown.Select(n => (d.Disk, n))).Distinct().Count()} more depend on them";
        return $"{result.Folder}: {verdict}: {result.Points} point(s) of {result.Disks} disk(s) checked ({what}) in {Units.Duration(result.Duration)}{unproved}";
    }

    /// <summary>One disk of a forget run: what is kept (and why), forgotten and merged.</summary>
    public static string Describe(DiskForgetPlan plan, bool dryRun)
    {
        var kept = string.Join(", ", plan.Kept.OrderBy(k => k.Key).Select(k => $"{k.Key} ({string.Join(", ", k.Value)})"));
        if (plan.Removed.Count == 0)
        {
            return $"{plan.Disk.Name}: keeps all {plan.Kept.Count} point(s): {kept}";
        }

        var merges = plan.Merges.Select(m =>
            $"point {m.Point.Number} takes in {Numbers(m.Absorbed.Select(p => p.Number))} ({(m.NewBacking is { } on ? $"now on point {on.Number}" : "now a full point")})");
        return $"{plan.Disk.Name}: {(dryRun ? "would keep" : "kept")} {kept}; {(dryRun ? "would forget" : "forgot")} {Numbers(plan.Removed.Select(p => p.Number))}"
            + (plan.Merges.Count == 0 ? string.Empty : "; " + string.Join("; ", merges));
    }

    /// <summary>The last line of a forget run.</summary>
    public static string Describe(ForgetResult result)
    {
        var forgotten = result.Disks.Sum(d => d.Removed.Count);
        return result.DryRun
            ? $"dry run: would forget {forgotten} point(s) of {result.Disks.Count} disk(s); nothing was changed"
            : $"forgot {forgotten} point(s) of {result.Disks.Count} disk(s) in {Units.Duration(result.Duration)}; {Units.Bytes(Math.Max(0, result.BytesFreed))} freed";
    }

    /// <summary>"1-3, 7, 9-10".</summary>
    private static string Numbers(IEnumerable<int> numbers)
    {
        var sorted = numbers.Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }

        return string.Join(", ", parts);
    }

    /// <summary>The line above a disk's checkpoints.</summary>
    public static string Heading(DiskCheckpoints disk) =>
        disk.Problem is { } problem ? $"{disk.Disk} ({disk.Image}): cannot be read: {problem}"
        : disk.Checkpoints.Count == 0 ? $"{disk.Disk} ({disk.Image}): no checkpoints"
        : $"{disk.Disk} ({disk.Image}):";

    /// <summary>One checkpoint: its name, whose it is, and its flags.</summary>
    public static string Describe(CheckpointEntry entry, string image)
    {
        var whose = entry.Owner switch
        {
            CheckpointOwner.ThisFolder when entry.Current => "this folder's, current: the next incremental starts from it",
            CheckpointOwner.ThisFolder when entry.Point is { } point => $"this folder's, started with point {point}",
            CheckpointOwner.ThisFolder => "this folder's, recorded by no point: left by a crashed run",
            CheckpointOwner.OtherFolder => "another backup folder's",
            _ => "not this tool's (libvirt's or another program's)",
        };
        var where = entry.Layer == image ? string.Empty : $" [in {entry.Layer}]";
        var inUse = entry.Flags.Contains("in-use") ? "; in use (not closed cleanly: no longer usable)" : string.Empty;
        return $"{entry.Name}: {whose}{inUse}{where}";
    }
}
