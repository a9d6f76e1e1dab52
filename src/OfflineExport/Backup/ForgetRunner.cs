using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Processes;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// <c>forget DIR --keep-…</c> (ARCHITECTURE.md, "Retention"): removes the points a <see cref="RetentionPolicy"/>
/// does not keep without breaking a kept one. A kept point whose chain runs through forgotten points gets a
/// merged copy of its file — rebased (qemu-img's safe mode) onto the nearest kept point under it, or converted
/// into a full point — proved identical to the point with <c>qemu-img compare</c> before anything is replaced.
/// Kept points keep their numbers and file names. A <see cref="ForgetJournal"/> makes a killed run undone or finished.
/// </summary>
public sealed class ForgetRunner
{
    private const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly ExportOptions _options;

    /// <summary>Creates a runner with the given tools.</summary>
    public ForgetRunner(ExportOptions options) => _options = options;

    /// <summary>Forgets.</summary>
    public Task<ForgetResult> RunAsync(ForgetRequest request, CancellationToken cancellationToken) =>
        RunAsync(request, null, cancellationToken);

    /// <summary>Forgets, reporting each merge (<see cref="ProgressStep.Merge"/>) and its proof (<see cref="ProgressStep.Verify"/>) to <paramref name="progress"/>.</summary>
    public Task<ForgetResult> RunAsync(ForgetRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => ForgetAsync(request, progress, cancellationToken));

    private async Task<ForgetResult> ForgetAsync(ForgetRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        request.Policy.Check();
        var folder = FolderPath.Full(request.Folder);
        var zone = request.TimeZone ?? TimeZoneInfo.Local;
        var manifest = ManifestStore.LoadExisting(folder);
        if (request.DryRun)
        {
            var plans = manifest.Disks.Select(d => ForgetPlanner.Plan(d, request.Policy, zone)).ToList();
            return new ForgetResult(folder, true, plans, 0, [], clock.Elapsed);
        }

        using var folderLock = BackupFolderLock.Acquire(folder);
        using var pointsLock = PointFilesLock.Exclusive(folder);
        var qemuImg = _options.CreateQemuImg();
        var notes = new List<string>();
        var warnings = new List<string>();
        if (ForgetJournal.FinishPending(folder) is { } finished)
        {
            notes.Add(finished);
        }

        // A copy (cp -a) carries the original's tag: settled first, the original's checkpoints are not this folder's.
        var (settled, copyNote) = BackupFolderIdentity.SettleCopy(ManifestStore.LoadExisting(folder), FileIdentity.Of(folder), folder);
        if (copyNote is not null)
        {
            notes.Add(copyNote);
            ManifestStore.Save(folder, settled);
        }

        notes.AddRange(await KilledRunRecovery.RecoverAsync(qemuImg, folder, settled, warnings, cancellationToken).ConfigureAwait(false));
        manifest = ManifestStore.LoadExisting(folder);
        var diskPlans = manifest.Disks.Select(d => ForgetPlanner.Plan(d, request.Policy, zone)).ToList();
        long freed = 0;
        if (diskPlans.Any(p => p.Removed.Count > 0))
        {
            var held = await HoldSoundMergesAsync(folder, diskPlans, cancellationToken).ConfigureAwait(false);
            try
            {
                freed = await MergeAndCommitAsync(qemuImg, folder, diskPlans, held, warnings, progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Release(held);
            }
        }

        // The points are safe now: what follows only tidies the disks, and its failures are warnings.
        var after = ManifestStore.LoadExisting(folder);
        var removed = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var plan in diskPlans)
        {
            var disk = after.Disk(plan.Disk.Name)!;
            var forgotten = ForgetPlanner.CheckpointsToRemove(plan, disk, after.Folder);
            var recorded = disk.Points.Select(p => p.CheckpointCreated).OfType<string>().Append(disk.CurrentCheckpoint).OfType<string>().ToHashSet(StringComparer.Ordinal);
            // This folder's checkpoints that no point records were left by a crashed run (in use or not); without a folder id nothing unrecorded is provably ours.
            bool Remove(BitmapInfo bitmap) => forgotten.Contains(bitmap.Name)
                || (after.Folder is not null && CheckpointNames.BelongsTo(bitmap.Name, after.Folder) && !recorded.Contains(bitmap.Name));
            foreach (var (name, layer) in await CheckpointRemoval.RemoveAsync(qemuImg, disk, Remove, warnings, cancellationToken).ConfigureAwait(false))
            {
                removed.Add(CheckpointRemoval.Describe(disk.Name, name, layer));
                names.Add(name);
            }
        }

        await LibvirtCheckpointRecords.ForgetForFolderAsync(folder, _options.LibvirtUri, _options.Log, names, warnings, cancellationToken).ConfigureAwait(false);

        return new ForgetResult(folder, false, diskPlans, freed, removed, clock.Elapsed) { Notes = notes, Warnings = warnings };
    }

    /// <summary>
    /// Before any file goes: every kept point of a disk that loses points must be intact by its header
    /// (the plan follows the manifest, and a kept point whose header still names a forgotten file would
    /// lose its data with it); and a merge copies data, so every file it reads must be what was written
    /// (links, sizes, checksums), or damage would spread into kept points. Each merge's chain is opened
    /// here and read only through those files (<see cref="PinnedPointChain"/>): a file swapped in the
    /// folder meanwhile cannot bring a host file's content into a kept point. The caller disposes them.
    /// </summary>
    private static async Task<Dictionary<PointMerge, PinnedPointChain>> HoldSoundMergesAsync(string folder, IReadOnlyList<DiskForgetPlan> plans, CancellationToken cancellationToken)
    {
        foreach (var plan in plans.Where(p => p.Removed.Count > 0))
        {
            foreach (var kept in plan.Kept.Keys.Order())
            {
                if (plan.Disk.Point(kept) is { } point && PointFiles.FirstDamage(folder, plan.Disk, point) is { } damage)
                {
                    throw new OfflineExportException(ErrorKind.DamagedPoint,
                        $"cannot forget: kept point {kept} of {plan.Disk.Name} {(damage.Member.Number == kept ? "is" : $"stands on point {damage.Member.Number} ({damage.Member.File}), which is")} damaged: {damage.What}; nothing was changed; see 'offline-export check {folder}'");
                }
            }
        }

        var held = new Dictionary<PointMerge, PinnedPointChain>(ReferenceEqualityComparer.Instance);
        try
        {
            foreach (var plan in plans)
            {
                foreach (var merge in plan.Merges)
                {
                    var chain = PinnedPointChain.Open(folder, plan.Disk, merge.Point, "keep");
                    held.Add(merge, chain);
                    if (merge.NewBacking is { } below && chain.PointAt(1 + merge.Absorbed.Count).Number != below.Number)
                    {
                        throw new InvalidOperationException($"the plan for point {merge.Point.Number} of {plan.Disk.Name} does not follow its chain");
                    }

                    // What the merge reads of its own: the point and the forgotten points it takes in (the chain's top).
                    if (await chain.FirstChecksumProblemAsync(1 + merge.Absorbed.Count, cancellationToken).ConfigureAwait(false) is { } problem)
                    {
                        throw new OfflineExportException(ErrorKind.DamagedPoint,
                            $"cannot forget: kept point {merge.Point.Number} of {plan.Disk.Name} would take in point {problem.Member.Number} ({problem.Member.File}), which is damaged: {problem.What}; nothing was changed; see 'offline-export check {folder}'");
                    }
                }
            }

            return held;
        }
        catch
        {
            Release(held);
            throw;
        }
    }

    private static void Release(Dictionary<PointMerge, PinnedPointChain> held)
    {
        foreach (var chain in held.Values)
        {
            chain.Dispose();
        }
    }

    /// <summary>Writes and proves every merged file, commits the journal, then puts everything in place. Returns the bytes freed.</summary>
    private static async Task<long> MergeAndCommitAsync(QemuImg qemuImg, string folder, IReadOnlyList<DiskForgetPlan> plans, Dictionary<PointMerge, PinnedPointChain> held, List<string> warnings, IProgress<DiskProgress>? progress, CancellationToken cancellationToken)
    {
        long SizeOf(string file) => FileIdentity.OfLink(Path.Combine(folder, file)) is { Kind: FileKind.Regular } ? new FileInfo(Path.Combine(folder, file)).Length : 0;
        var merges = plans.SelectMany(p => p.Merges.Select(m => (p.Disk, Merge: m, Temporary: $"{m.Point.File}.{Guid.NewGuid().ToString("N")[..8]}.forget"))).ToList();
        var before = plans.Sum(p => p.Removed.Sum(r => SizeOf(r.File)) + p.Merges.Sum(m => SizeOf(m.Point.File)));
        var journal = new ForgetJournal { Owner = ProcessIdentity.Current, StartTime = DateTimeOffset.UtcNow, Stage = ForgetStage.Building, Temporaries = merges.Select(m => m.Temporary).ToList() };
        journal.Save(folder);
        var swaps = new List<ForgetSwap>();
        try
        {
            for (var i = 0; i < merges.Count; i++)
            {
                var (disk, merge, temporary) = merges[i];
                var shown = progress is null ? null : new DiskProgressAdapter(progress, $"{disk.Name} point {merge.Point.Number}", i, merges.Count);
                swaps.Add(await MergeAsync(qemuImg, folder, disk, merge, held[merge], temporary, shown, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            ForgetJournal.RemoveTemporaries(folder, journal.Temporaries);
            ForgetJournal.Delete(folder);
            throw;
        }

        journal = journal with
        {
            Stage = ForgetStage.Committing,
            Swaps = swaps,
            Forgotten = plans.SelectMany(p => p.Removed.Select(r => new ForgottenPoint(p.Disk.Name, r.Number, r.File))).ToList(),
        };
        // The commit: from here a killed run is finished by the next one, so this one finishes too, Ctrl-C or not.
        journal.Save(folder);
        foreach (var left in journal.RollForward(folder))
        {
            warnings.Add($"could not remove {left}, which no point needs any more");
        }

        return before - swaps.Sum(s => s.FileSize);
    }

    /// <summary>One kept point's merged file under its temporary name, proved identical to the point, synced, and its record.</summary>
    private static async Task<ForgetSwap> MergeAsync(QemuImg qemuImg, string folder, DiskRecord disk, PointMerge merge, PinnedPointChain chain, string temporary, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, temporary);
        try
        {
            // Created private and held: qemu-img writes it by name, but what is compared, checked, synced and
            // recorded is read from this file, and only while the name still leads to it.
            using var merged = RegularFileHandle.CreateNew(path, PrivateMode);
            if (merge.NewBacking is { } backing)
            {
                // The copy still names the old backing; the safe rebase writes into it whatever the forgotten points held.
                // It reads them by name (qemu compares only the layers above the new backing when it finds it by name),
                // so the copy stays private until the comparison with the held chain proves it holds nothing else.
                chain.CopyPointInto(merged, path);
                await qemuImg.RebaseAsync(path, ImageFormats.Qcow2, backing.File, ImageFormats.Qcow2, cancellationToken, ExportProgress.ReporterFor(progress, ProgressStep.Merge, (ulong)disk.VirtualSize)).ConfigureAwait(false);
            }
            else
            {
                // qemu-img creates its image over the empty file: the same file, truncated and written. In the points'
                // layout: zero subclusters written as zero-filled clusters would make the next incremental refuse.
                await qemuImg.ConvertToQcow2Async(chain.QemuName, ImageFormats.Qcow2, path, cancellationToken, ExportProgress.ReporterFor(progress, ProgressStep.Merge, (ulong)disk.VirtualSize), chain.MergedLayout()?.QemuImgOptions).ConfigureAwait(false);
            }

            RequireStillNamed(merged, path);
            var mergedName = chain.QemuNameOver(merged, merge.NewBacking is null ? null : 1 + merge.Absorbed.Count);
            var compare = await qemuImg.CompareAsync(mergedName, ImageFormats.Qcow2, chain.QemuName, ImageFormats.Qcow2, cancellationToken, ExportProgress.ReporterFor(progress, ProgressStep.Verify, (ulong)disk.VirtualSize)).ConfigureAwait(false);
            var message = chain.Readable(compare.Message, (merged, mergedName, path));
            Verification.RequireIdentical(compare with { Message = message }, $"the merged copy of point {merge.Point.Number} of {disk.Name} differs from the point; nothing was changed");
            // Proved: now as readable as the point it replaces (File.Copy's way).
            File.SetUnixFileMode(merged, chain.PointFileMode());
            LayerChecks.Judge(path, await qemuImg.CheckQcow2Async(merged, path, cancellationToken).ConfigureAwait(false));
            FileSync.File(merged);
            var digest = await FileChecksum.ComputeAsync(merged, cancellationToken).ConfigureAwait(false);
            RequireStillNamed(merged, path);
            return new ForgetSwap
            {
                Disk = disk.Name,
                Point = merge.Point.Number,
                File = merge.Point.File,
                Temporary = temporary,
                FileSha256 = digest.Sha256,
                FileSize = digest.Size,
                BackingPoint = merge.NewBacking?.Number,
                Level = merge.NewBacking is null ? PointLevel.Full : merge.Point.Level,
                CheckpointsUsed = merge.NewBacking is null ? [] : [.. merge.Absorbed.AsEnumerable().Reverse().SelectMany(p => p.CheckpointsUsed), .. merge.Point.CheckpointsUsed],
            };
        }
        catch (QemuImgException ex)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot merge forgotten points into point {merge.Point.Number} of {disk.Name}: {chain.Readable(ChainReader.QemuErrorText(ex.StandardError))}; nothing was changed", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write the merged copy of point {merge.Point.Number} of {disk.Name} in {folder}: {IoErrorText.Reason(ex)}; nothing was changed", ex);
        }
    }

    // The temporary name must still lead to the file this run created and holds: the swap renames it by that name.
    private static void RequireStillNamed(SafeFileHandle merged, string path)
    {
        if (FileIdentity.OfLink(path) is not { } named || !named.IsSameFileAs(FileIdentity.OfOpen(merged)))
        {
            throw new IOException($"{path} is no longer the file this run created (replaced or removed while it was written)");
        }
    }
}
