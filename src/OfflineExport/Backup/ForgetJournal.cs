using System.Globalization;
using System.Text.Json;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Processes;

namespace OfflineExport.Backup;

/// <summary>
/// The journal of a forget run (ARCHITECTURE.md, "Retention"), written before each stage. While it is
/// <see cref="ForgetStage.Building"/> only temporary files exist and a killed run is undone; once it is
/// <see cref="ForgetStage.Committing"/> every merged file is complete and proved, and a killed run is finished
/// (rename, manifest, removals: each step can be repeated). Whoever takes the folder next does either.
/// </summary>
public sealed record ForgetJournal
{
    /// <summary>The journal's file name inside the backup folder.</summary>
    public const string FileName = ".offline-export.forget.json";

    /// <summary>The run.</summary>
    public required ProcessIdentity Owner { get; init; }

    /// <summary>When the run started.</summary>
    public required DateTimeOffset StartTime { get; init; }

    /// <summary>How far the run got.</summary>
    public required ForgetStage Stage { get; init; }

    /// <summary>The temporary names the run writes merged files under (plain names).</summary>
    public IReadOnlyList<string> Temporaries { get; init; } = [];

    /// <summary>The merged files and their new records (when committing).</summary>
    public IReadOnlyList<ForgetSwap> Swaps { get; init; } = [];

    /// <summary>The forgotten points (when committing).</summary>
    public IReadOnlyList<ForgottenPoint> Forgotten { get; init; } = [];

    /// <summary>Writes the journal durably: it exists before the stage it announces.</summary>
    /// <exception cref="OfflineExportException">The folder cannot be written (OutputProblem).</exception>
    public void Save(string folder) => FolderRecordFile.Save(folder, FileName, this, ForgetJournalJsonContext.Default.ForgetJournal);

    /// <summary>The journal in <paramref name="folder"/>, or null when there is none.</summary>
    /// <exception cref="OfflineExportException">A journal is there but cannot be read or names files outside the folder (BackupFolderProblem).</exception>
    public static ForgetJournal? Load(string folder) =>
        FolderRecordFile.Load(folder, FileName, ForgetJournalJsonContext.Default.ForgetJournal, "the journal of an unfinished forget run", journal =>
        {
            if (journal.Temporaries is null || journal.Swaps is null || journal.Forgotten is null || journal.Swaps.Any(s => s is null) || journal.Forgotten.Any(f => f is null))
            {
                throw new JsonException("a list in it is missing or null");
            }

            var names = journal.Temporaries.Concat(journal.Swaps.SelectMany(s => new[] { s.File, s.Temporary })).Concat(journal.Forgotten.Select(f => f.File));
            if (names.Any(n => n is null || !ManifestValidation.IsPlainName(n)))
            {
                throw new JsonException("it names a file that is not a plain name inside the folder");
            }
        });

    /// <summary>Removes the journal (its run is finished or undone).</summary>
    public static void Delete(string folder)
    {
        OutputFile.TryDelete(Path.Combine(folder, FileName));
        TrySyncFolder(folder);
    }

    /// <summary>
    /// Finishes (committing) or undoes (building) the forget run a journal in <paramref name="folder"/> records.
    /// The caller holds the folder lock and the point files lock exclusively. Returns the note to print, or null.
    /// </summary>
    public static string? FinishPending(string folder)
    {
        if (Load(folder) is not { } journal)
        {
            return null;
        }

        var started = journal.StartTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        journal.CheckAgainst(ManifestStore.LoadExisting(folder), folder);
        if (journal.Stage == ForgetStage.Building)
        {
            RemoveTemporaries(folder, journal.Temporaries);
            Delete(folder);
            return $"undid an interrupted forget run (pid {journal.Owner.Pid}, started {started}): it had changed nothing yet";
        }

        var left = journal.RollForward(folder);
        return $"finished an interrupted forget run (pid {journal.Owner.Pid}, started {started}): {journal.Forgotten.Count} point(s) forgotten, {journal.Swaps.Count} merged"
            + (left.Count == 0 ? string.Empty : $"; could not remove {string.Join(", ", left)}, which no point needs any more");
    }

    /// <summary>
    /// For the commands other than forget: finishes or undoes a pending forget when the folder can be taken at
    /// once (<paramref name="folderLockHeld"/>: the caller already holds the folder lock), else leaves it for
    /// the next command. Returns the note to print, or null.
    /// </summary>
    public static string? TryFinishPending(string folder, bool folderLockHeld)
    {
        if (!File.Exists(Path.Combine(folder, FileName)))
        {
            return null;
        }

        BackupFolderLock? folderLock = null;
        try
        {
            folderLock = folderLockHeld ? null : BackupFolderLock.Acquire(folder);
            using var pointsLock = PointFilesLock.Exclusive(folder);
            return FinishPending(folder);
        }
        catch (OfflineExportException ex) when (ex.Kind is ErrorKind.BackupFolderProblem or ErrorKind.OutputProblem)
        {
            return null; // busy, or a read-only copy: whoever can take the folder finishes it
        }
        finally
        {
            folderLock?.Dispose();
        }
    }

    /// <summary>Removes the temporary files a run wrote (regular files only).</summary>
    public static void RemoveTemporaries(string folder, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            var path = Path.Combine(folder, name);
            if (FileIdentity.OfLink(path) is { Kind: FileKind.Regular })
            {
                OutputFile.TryDelete(path);
            }
        }
    }

    /// <summary>
    /// The manifest with this run's changes for every disk whose merged files are all in place: forgotten points
    /// gone, merged points' new records. A disk with a swap not in place keeps its records (its old files are all
    /// still there). Applying it twice changes nothing more.
    /// </summary>
    public BackupManifest Apply(BackupManifest manifest, Func<ForgetSwap, bool> inPlace)
    {
        foreach (var disk in manifest.Disks.ToList())
        {
            var swaps = Swaps.Where(s => s.Disk == disk.Name).ToList();
            if (!swaps.All(inPlace))
            {
                continue;
            }

            var gone = Forgotten.Where(f => f.Disk == disk.Name).Select(f => f.Point).ToHashSet();
            var points = disk.Points.Where(p => !gone.Contains(p.Number)).Select(point =>
                swaps.FirstOrDefault(s => s.Point == point.Number) is { } swap
                    ? point with
                    {
                        Level = swap.Level,
                        BackingPoint = swap.BackingPoint,
                        CheckpointsUsed = swap.CheckpointsUsed,
                        FileSha256 = swap.FileSha256,
                        FileSize = swap.FileSize,
                    }
                    : point).ToList();
            manifest = manifest.WithDisk(disk with { Points = points });
        }

        return manifest;
    }

    /// <summary>
    /// Refuses a journal that does not fit the folder's manifest, before it moves or removes anything: every
    /// name it holds must be a point file of its disk (<c>DISK.N.LEVEL.qcow2</c>) or such a file's temporary
    /// (<c>….8 hex.forget</c>), and a swap must be a point's own file.
    /// </summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem.</exception>
    public void CheckAgainst(BackupManifest manifest, string folder)
    {
        static bool IsPointFile(string file, string disk, int number) =>
            file is var f && (f == $"{disk}.{number}.full.qcow2" || f == $"{disk}.{number}.inc.qcow2" || f == $"{disk}.{number}.diff.qcow2");

        bool IsTemporaryOf(string temporary, string file) =>
            temporary.Length == file.Length + ".12345678.forget".Length && temporary.StartsWith(file + ".", StringComparison.Ordinal)
            && temporary.EndsWith(".forget", StringComparison.Ordinal) && temporary[(file.Length + 1)..^".forget".Length].All(char.IsAsciiHexDigitLower);

        var files = manifest.Disks.SelectMany(d => d.Points.Select(p => p.File)).ToList();
        var fits = Temporaries.All(t => files.Any(f => IsTemporaryOf(t, f)))
            && Swaps.All(s => manifest.Disk(s.Disk)?.Point(s.Point)?.File == s.File && IsTemporaryOf(s.Temporary, s.File) && Temporaries.Contains(s.Temporary))
            && Forgotten.All(f => IsPointFile(f.File, f.Disk, f.Point) && manifest.Disk(f.Disk) is { } disk && (disk.Point(f.Point) is not { } point || point.File == f.File)
                && !manifest.Disks.Any(d => d.Name != f.Disk && d.Points.Any(p => p.File == f.File)));
        if (!fits)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                $"{Path.Combine(folder, FileName)}, the journal of an unfinished forget run, does not fit the folder's manifest (it names files that are not its points'); nothing was done: look at what it lists, remove it, and run 'offline-export check {folder}'");
        }
    }

    /// <summary>
    /// Puts the merged files in place, records the manifest, then removes the forgotten files. Every step can be
    /// repeated. A disk whose merged file is not in place (its temporary gone) keeps its records and old files;
    /// a forgotten file is removed only once every merged point of its disk links without it. Returns what could
    /// not be removed (the points are safe regardless).
    /// </summary>
    /// <exception cref="OfflineExportException">A rename or the manifest failed (OutputProblem); the journal stays for the next run.</exception>
    public IReadOnlyList<string> RollForward(string folder)
    {
        var manifest = ManifestStore.LoadExisting(folder);
        CheckAgainst(manifest, folder);
        try
        {
            foreach (var swap in Swaps)
            {
                var temporary = Path.Combine(folder, swap.Temporary);
                if (FileIdentity.OfLink(temporary) is { Kind: FileKind.Regular })
                {
                    File.Move(temporary, Path.Combine(folder, swap.File), overwrite: true);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot finish the forget run in {folder}: {IoErrorText.Reason(ex)}; the next command on the folder tries again", ex);
        }

        TrySyncFolder(folder);
        bool InPlace(ForgetSwap swap)
        {
            // The merged file, not the old one: its recorded size and the backing file it was merged onto.
            var expected = swap.BackingPoint is { } backing ? manifest.Disk(swap.Disk)?.Point(backing)?.File : null;
            try
            {
                // Through one open regular file (no symlink, no pipe to wait on): size and header of the same file.
                using var file = RegularFileHandle.OpenForReading(Path.Combine(folder, swap.File));
                return RandomAccess.GetLength(file) == swap.FileSize
                    && Qemu.Qcow2Header.BackingName(file) is var name
                    && (name is null ? expected is null : expected is not null && Path.GetFileName(name) == expected);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                return false;
            }
        }

        manifest = Apply(manifest, InPlace);
        ManifestStore.Save(folder, manifest);
        var left = new List<string>();
        foreach (var disk in manifest.Disks.Where(d => Forgotten.Any(f => f.Disk == d.Name)))
        {
            // A disk not applied, or a merged point that does not examine sound, still needs the old files.
            var merged = Swaps.Where(s => s.Disk == disk.Name).Select(s => disk.Point(s.Point)).OfType<PointRecord>().ToList();
            if (Forgotten.Any(f => f.Disk == disk.Name && disk.Point(f.Point) is not null)
                || merged.Any(p => PointFiles.FirstDamage(folder, disk, p) is not null))
            {
                continue;
            }

            var used = disk.Points.Select(p => p.File).ToHashSet(StringComparer.Ordinal);
            foreach (var forgotten in Forgotten.Where(f => f.Disk == disk.Name && !used.Contains(f.File)))
            {
                var path = Path.Combine(folder, forgotten.File);
                try
                {
                    if (FileIdentity.OfLink(path) is { Kind: FileKind.Regular })
                    {
                        File.Delete(path);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    left.Add($"{forgotten.File} ({IoErrorText.Reason(ex)})");
                }
            }
        }

        RemoveTemporaries(folder, Temporaries);
        Delete(folder);
        return left;
    }

    private static void TrySyncFolder(string folder)
    {
        try
        {
            FileSync.Folder(folder);
        }
        catch (IOException)
        {
            // Only durability across a power cut is in doubt; the next run repeats what did not last.
        }
    }
}
