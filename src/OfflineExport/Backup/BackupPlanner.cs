using System.Text.RegularExpressions;
using OfflineExport.Export;

namespace OfflineExport.Backup;

/// <summary>
/// Pure: decides, for each disk, which point a backup run makes (full, incremental, differential),
/// which checkpoints it exports and which point it is backed by, from the manifest and the chains.
/// </summary>
public static partial class BackupPlanner
{
    /// <summary>Plans the run; throws <see cref="OfflineExportException"/> when a level cannot be honoured.</summary>
    /// <param name="manifest">The folder's manifest.</param>
    /// <param name="disks">The disks to back up, with their chains.</param>
    /// <param name="level">The requested level.</param>
    /// <param name="now">The run's start time (names the new checkpoints).</param>
    /// <param name="pointProblem">What is wrong with a point's chain of files (missing, damaged), or null when a new point can build on it.</param>
    /// <param name="fullEvery">With <see cref="BackupLevel.Auto"/>: a full point once the current chain holds this many points (null: never).</param>
    public static IReadOnlyList<DiskPlan> Plan(BackupManifest manifest, IReadOnlyList<DiskSource> disks, BackupLevel level, DateTimeOffset now, Func<PointRecord, string?> pointProblem, int? fullEvery = null)
    {
        CheckNames(disks);
        return disks.Select(d => PlanDisk(manifest.Folder, manifest.Disk(d.Name), d, level, now, pointProblem, fullEvery)).ToList();
    }

    /// <summary>
    /// The same point as a full one instead (same number and next checkpoint), when the export found that an
    /// incremental would be wrong; <paramref name="why"/> goes into the reason and the warning.
    /// </summary>
    public static DiskPlan FullInstead(DiskPlan plan, string why) => plan with
    {
        Level = PointLevel.Full,
        File = FileName(plan.Disk.Name, plan.Number, PointLevel.Full),
        Checkpoints = [],
        BackingPoint = null,
        Reason = AsReasonForFull(why),
        Warning = $"{plan.Disk.Name}: new full point: {why}",
    };

    /// <summary>
    /// A refusal's text as the reason a full point is made instead, read after "full: ": its closing advice
    /// ("take a full export") is what is being done, so it goes.
    /// </summary>
    private static string AsReasonForFull(string problem)
    {
        foreach (var advice in new[] { "; take a full export", ": take a full export", ", take a full export" })
        {
            if (problem.EndsWith(advice, StringComparison.Ordinal))
            {
                return problem[..^advice.Length];
            }
        }

        return problem;
    }

    private static string FileName(string disk, int number, PointLevel level) => $"{disk}.{number}.{level.ToString().ToLowerInvariant()}.qcow2";

    private static void CheckNames(IReadOnlyList<DiskSource> disks)
    {
        foreach (var disk in disks)
        {
            if (!DiskName().IsMatch(disk.Name))
            {
                throw new OfflineExportException(ErrorKind.InvalidRequest, $"disk name '{disk.Name}' (from {disk.Image}) must be letters, digits, '.', '_' or '-'");
            }
        }

        // One file under two names (a symlink, a hard link) would get two checkpoints from one run and two chains.
        for (var i = 0; i < disks.Count; i++)
        {
            for (var j = i + 1; j < disks.Count; j++)
            {
                if (disks[i].Identity is { } first && disks[j].Identity is { } second && first.IsSameFileAs(second))
                {
                    throw new OfflineExportException(ErrorKind.InvalidRequest, $"{disks[i].Image} and {disks[j].Image} are the same disk ({first.Describe()}); give it once");
                }
            }
        }

        var duplicate = disks.GroupBy(d => d.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest,
                $"two disks are named '{duplicate.Key}' ({string.Join(", ", duplicate.Select(d => d.Image))}); a disk's name is its file name without extension, so they must differ");
        }
    }

    private static DiskPlan PlanDisk(FolderRecord? folder, DiskRecord? record, DiskSource disk, BackupLevel level, DateTimeOffset now, Func<PointRecord, string?> pointProblem, int? fullEvery)
    {
        var number = record is null || record.Points.Count == 0 ? 0 : record.Points.Max(p => p.Number) + 1;
        // Names still recorded for this disk are taken too, even if --keep-checkpoints removed the bitmap:
        // one name for two checkpoints would let pruning mistake the current one for an old one.
        var taken = disk.Chain.SelectMany(l => l.Bitmaps).Select(b => b.Name)
            .Concat(record?.Points.Select(p => p.CheckpointCreated).OfType<string>() ?? []);
        var canHoldCheckpoints = disk.Chain[0].Format == "qcow2";
        var next = canHoldCheckpoints ? CheckpointNames.Create(now, folder?.Tag, taken) : null;

        DiskPlan Make(PointLevel pointLevel, IReadOnlyList<string> checkpoints, PointRecord? backing, string reason) =>
            new(disk, pointLevel, number, FileName(disk.Name, number, pointLevel), checkpoints, backing, next, reason);

        if (!canHoldCheckpoints && level is BackupLevel.Inc or BackupLevel.Diff)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest,
                $"{disk.Name}: cannot make {(level == BackupLevel.Inc ? "an incremental" : "a differential")} point: {disk.Image} is a {disk.Chain[0].Format} image, which cannot hold checkpoints: only full points (--level auto makes them by itself)");
        }

        // A point belongs to the disk it was taken of: another disk's changes are never appended to this chain.
        // A copied folder never builds on the checkpoints it inherited: the original may remove them.
        var untrusted = IdentityProblem(record, disk)
            ?? (record?.Latest?.ImportedFrom is not null
                ? null // a seed's checkpoint is libvirt's, named by the operator for this folder (backup --seed)
                : InheritedProblem(folder, level == BackupLevel.Diff ? record?.CurrentChain.FirstOrDefault()?.CheckpointCreated : record?.CurrentCheckpoint));
        switch (level)
        {
            case BackupLevel.Full:
                return Make(PointLevel.Full, [], null, "full backup requested");
            case BackupLevel.Inc:
            {
                if (untrusted is not null)
                {
                    throw new OfflineExportException(ErrorKind.InvalidCheckpoint, $"{disk.Name}: cannot make an incremental point: {untrusted}");
                }

                if (IncrementalProblem(record, disk, pointProblem) is ({ } problem, var kind))
                {
                    throw new OfflineExportException(kind, $"{disk.Name}: cannot make an incremental point: {problem}");
                }

                return Make(PointLevel.Inc, [record!.CurrentCheckpoint!], record.Latest, $"changes since point {record.Latest!.Number}");
            }

            case BackupLevel.Diff:
            {
                if (untrusted is not null)
                {
                    throw new OfflineExportException(ErrorKind.InvalidCheckpoint, $"{disk.Name}: cannot make a differential point: {untrusted}");
                }

                var (problem, checkpoints, full) = DifferentialSources(record, disk, pointProblem);
                if (problem is ({ } text, var kind))
                {
                    throw new OfflineExportException(kind, $"{disk.Name}: cannot make a differential point: {text}");
                }

                return Make(PointLevel.Diff, checkpoints, full, $"changes since full point {full!.Number}");
            }

            default:
            {
                if (!canHoldCheckpoints)
                {
                    return Make(PointLevel.Full, [], null, $"{disk.Image} is a {disk.Chain[0].Format} image, which cannot hold checkpoints");
                }

                if (untrusted is not null)
                {
                    return Make(PointLevel.Full, [], null, AsReasonForFull(untrusted)) with { Warning = $"{disk.Name}: new full point: {untrusted}" };
                }

                if (fullEvery is { } every && record?.CurrentChain.Count >= every)
                {
                    return Make(PointLevel.Full, [], null, $"the chain since full point {record.CurrentChain[0].Number} holds {record.CurrentChain.Count} points (--full-every {every})");
                }

                if (IncrementalProblem(record, disk, pointProblem)?.Text is not { } problem)
                {
                    return Make(PointLevel.Inc, [record!.CurrentCheckpoint!], record.Latest, $"changes since point {record.Latest!.Number}");
                }

                if (record is null || record.Points.Count == 0)
                {
                    return Make(PointLevel.Full, [], null, "first backup of this disk");
                }

                // A chain that cannot go on (a damaged point, a lost or untrustworthy checkpoint, an external
                // snapshot with data) is news the operator must hear, not only a reason in the table.
                return Make(PointLevel.Full, [], null, AsReasonForFull(problem)) with { Warning = $"{disk.Name}: new full point: {problem}" };
            }
        }
    }

    /// <summary>
    /// Why the disk is not the one the latest point was taken of, or null when it is (or when the point
    /// predates the record). The same file, or that file still a layer under new ones (an external
    /// snapshot), is the same disk; anything else at that path is another disk.
    /// </summary>
    private static string? IdentityProblem(DiskRecord? record, DiskSource disk)
    {
        if (record?.Latest is not { Disk: { } recorded } latest || disk.Identity is not { } current)
        {
            return null;
        }

        if (current.IsSameFileAs(recorded) || disk.LayerIdentities.Skip(1).Any(layer => layer.IsSameFileAs(recorded)))
        {
            return null;
        }

        return $"{disk.Image} is not the disk point {latest.Number} was taken of (that was {recorded.Describe()}, now {current.Describe()}); a replaced or cloned image starts a new chain";
    }

    /// <summary>Why <paramref name="checkpoint"/> is not this folder's to build on (it came with a copy of another folder), or null.</summary>
    private static string? InheritedProblem(FolderRecord? folder, string? checkpoint) =>
        checkpoint is null || CheckpointNames.BelongsTo(checkpoint, folder)
            ? null
            : $"checkpoint {checkpoint} was started by the backup folder this one is a copy of; a copied folder builds only on checkpoints it started itself";

    /// <summary>Why an incremental is impossible, or null when it is possible.</summary>
    /// <summary>Why no incremental point can be made, with the error kind of the README's exit codes (a missing or untrustworthy checkpoint is 4); null: it can.</summary>
    private static (string Text, ErrorKind Kind)? IncrementalProblem(DiskRecord? record, DiskSource disk, Func<PointRecord, string?> pointProblem)
    {
        if (record?.Latest is not { } latest || record.CurrentCheckpoint is not { } checkpoint)
        {
            return ("the backup folder has no point for this disk yet; make a full point first", ErrorKind.InvalidRequest);
        }

        if (pointProblem(latest) is { } damaged)
        {
            return ($"the latest point ({latest.File}) cannot be built on: {damaged}", ErrorKind.DamagedPoint);
        }

        return CheckpointProblem(disk, latest, [checkpoint]) is { } problem ? (problem, ErrorKind.InvalidCheckpoint) : null;
    }

    private static ((string Text, ErrorKind Kind)? Problem, IReadOnlyList<string> Checkpoints, PointRecord? Full) DifferentialSources(DiskRecord? record, DiskSource disk, Func<PointRecord, string?> pointProblem)
    {
        var chain = record?.CurrentChain ?? [];
        if (chain.Count == 0)
        {
            return (("the backup folder has no full point for this disk; make a full point first", ErrorKind.InvalidRequest), [], null);
        }

        var full = chain[0];
        if (pointProblem(full) is { } damaged)
        {
            return (($"the full point ({full.File}) cannot be built on: {damaged}", ErrorKind.DamagedPoint), [], null);
        }

        var top = disk.Chain[0].Bitmaps.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        if (full.CheckpointCreated is null || !top.Contains(full.CheckpointCreated))
        {
            return (($"checkpoint {full.CheckpointCreated}, started with full point {full.Number}, is no longer in {disk.Image}", ErrorKind.InvalidCheckpoint), [], null);
        }

        // The union of every checkpoint started in this chain that still exists.
        var checkpoints = chain.Select(p => p.CheckpointCreated).OfType<string>().Where(top.Contains).Distinct().ToList();
        return (CheckpointProblem(disk, full, checkpoints) is { } problem ? (problem, ErrorKind.InvalidCheckpoint) : null, checkpoints, full);
    }

    private static string? CheckpointProblem(DiskSource disk, PointRecord backing, IReadOnlyList<string> checkpoints)
    {
        if (disk.Chain[0].VirtualSize != backing.VirtualSize)
        {
            return $"the disk is now {disk.Chain[0].VirtualSize} bytes but point {backing.Number} is {backing.VirtualSize} bytes";
        }

        try
        {
            ChainValidator.Validate(disk.Chain, checkpoints);
            return null;
        }
        catch (OfflineExportException ex)
        {
            return ex.Message;
        }
    }

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]*\z")]
    private static partial Regex DiskName();
}
