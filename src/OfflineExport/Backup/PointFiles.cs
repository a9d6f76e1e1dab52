using Microsoft.Win32.SafeHandles;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// What a point's file must be before anything trusts it (ARCHITECTURE.md, "Checking a folder"): present,
/// a regular file of the recorded size, a qcow2 whose header names exactly the backing file the manifest
/// says (never one outside the folder), and — when its data is read — of the recorded SHA-256. These
/// checks read headers only, so <c>list</c>, <c>check</c>, <c>restore</c> and <c>backup</c> all afford them.
/// </summary>
public static class PointFiles
{
    /// <summary>What is wrong with the point's file and its link to its backing, or null when nothing is. Reads the header only.</summary>
    public static string? Examine(string folder, DiskRecord disk, PointRecord point)
    {
        var (handle, what) = OpenExamined(folder, disk, point);
        handle?.Dispose();
        return what;
    }

    /// <summary>
    /// Opens the point's file and examines it as <see cref="Examine"/> does, through that open file: the
    /// handle (null when something is wrong, with what) is the very file that passed, for a caller that goes
    /// on to read it. The caller owns the handle.
    /// </summary>
    public static (SafeFileHandle? Handle, string? What) OpenExamined(string folder, DiskRecord disk, PointRecord point)
    {
        if (point.BackingPoint is { } number && (number >= point.Number || disk.Point(number) is null))
        {
            return (null, $"the manifest says it is backed by point {number}, which {(number >= point.Number ? "is not an earlier point" : "the manifest does not list")}");
        }

        var path = Path.Combine(folder, point.File);
        // Looked at before it is opened: opening a device can do things of its own.
        try
        {
            switch (FileIdentity.OfLink(path))
            {
                case null:
                    return (null, "its file is missing");
                case { Kind: not FileKind.Regular }:
                    return (null, "its file is not a regular file (a symlink or a special file)");
            }
        }
        catch (IOException ex)
        {
            return (null, $"its file cannot be examined: {IoErrorText.Reason(ex)}");
        }

        SafeFileHandle handle;
        try
        {
            handle = RegularFileHandle.OpenForReading(path);
        }
        catch (FileNotFoundException)
        {
            return (null, "its file is missing");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"its file cannot be opened: {IoErrorText.Reason(ex)}");
        }

        string? what;
        try
        {
            what = ExamineOpen(folder, disk, point, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        if (what is null)
        {
            return (handle, null);
        }

        handle.Dispose();
        return (null, what);
    }

    private static string? ExamineOpen(string folder, DiskRecord disk, PointRecord point, SafeFileHandle handle)
    {
        long size;
        string? backing;
        try
        {
            size = RandomAccess.GetLength(handle);
            backing = Qcow2Header.BackingName(handle);
            if (Qcow2Header.UsesExternalDataFile(handle))
            {
                // Its data would come from another file, outside any check: this tool never writes such a point.
                return "it keeps its data in an external data file, which this tool never writes; nothing was read from there";
            }

            if (Qcow2Header.IsEncrypted(handle))
            {
                return "it is encrypted, which this tool never writes";
            }

            if (Qcow2Header.IsMarkedCorrupt(handle))
            {
                return "qemu marked it corrupt: its metadata is inconsistent (see 'qemu-img check')";
            }
        }
        catch (InvalidDataException ex)
        {
            return ex.Message;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"its file cannot be read: {IoErrorText.Reason(ex)}";
        }

        if (point.FileSize is { } recorded && recorded != size)
        {
            return $"its file is {size} bytes, but it was {recorded} bytes when it was written (truncated, extended or replaced)";
        }

        var expected = point.BackingPoint is { } backingNumber ? disk.Point(backingNumber)!.File : null;
        if (backing is null)
        {
            return expected is null ? null : $"its header names no backing file, but the manifest says it is backed by point {point.BackingPoint} ({expected})";
        }

        var resolved = Path.GetFullPath(backing, folder);
        if (backing.Contains(':', StringComparison.Ordinal) || !string.Equals(Path.GetDirectoryName(resolved), folder, StringComparison.Ordinal))
        {
            return $"its header names backing file '{backing}', outside the backup folder; nothing was read from there";
        }

        if (expected is null)
        {
            return $"it is a full point, but its header names backing file '{backing}'";
        }

        return Path.GetFileName(resolved) == expected
            ? null
            : $"its header names backing file '{backing}', but the manifest says it is backed by point {point.BackingPoint} ({expected})";
    }

    /// <summary>
    /// Refuses to read the held file of <paramref name="member"/> (of <paramref name="point"/>'s chain) when
    /// someone else could rewrite it in place: holding a file stops a swap, not a new header (one naming a
    /// host file after every check, which qemu would follow).
    /// </summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem: another user owns it, or its group or anyone may write it.</exception>
    public static void RequireOnlyOursCanChange(SafeFileHandle handle, string folder, DiskRecord disk, PointRecord point, PointRecord member, string use)
    {
        if (CurrentUser.OthersCanChange(FileIdentity.OfOpen(handle)) is { } who)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                $"cannot {use} point {point.Number} of {disk.Name}: {Path.Combine(folder, member.File)} could be changed while it is read: {who}; run as its owner, or make it yours and not writable by others (chown, chmod go-w)");
        }
    }

    /// <summary>The point and every point under it, by the manifest, the point first and its full last.</summary>
    public static IReadOnlyList<PointRecord> ChainOf(DiskRecord disk, PointRecord point)
    {
        var chain = new List<PointRecord> { point };
        // Backing numbers must decrease (Examine refuses others), so the walk ends; a missing one ends it too.
        while (chain[^1].BackingPoint is { } below && below < chain[^1].Number && disk.Point(below) is { } next)
        {
            chain.Add(next);
        }

        return chain;
    }

    /// <summary>The numbers of the later points whose chain runs through point <paramref name="number"/>, in order.</summary>
    public static IReadOnlyList<int> Dependents(DiskRecord disk, int number) =>
        disk.Points.Where(p => p.Number != number && ChainOf(disk, p).Any(c => c.Number == number)).Select(p => p.Number).ToList();

    /// <summary>Every point of the folder that <see cref="Examine"/> finds damaged, with the points each takes down.</summary>
    public static IReadOnlyList<PointDamage> Damage(string folder, BackupManifest manifest) =>
        manifest.Disks.SelectMany(disk => disk.Points
            .Select(point => (point, what: Examine(folder, disk, point)))
            .Where(x => x.what is not null)
            .Select(x => new PointDamage(disk.Name, x.point.Number, x.point.File, x.what!, Dependents(disk, x.point.Number))))
        .ToList();

    /// <summary>The first member of <paramref name="point"/>'s chain (the point first) that <see cref="Examine"/> finds damaged, and what is wrong; null when none is.</summary>
    public static (PointRecord Member, string What)? FirstDamage(string folder, DiskRecord disk, PointRecord point) =>
        ChainOf(disk, point).Select(member => (member, what: Examine(folder, disk, member))).FirstOrDefault(x => x.what is not null) is { what: { } what } found
            ? (found.member, what)
            : null;

    /// <summary>
    /// What is wrong with the content of the open file <paramref name="handle"/>, the point's, by its recorded
    /// checksum, or null (also when none was recorded); <paramref name="read"/> hears of every piece read.
    /// </summary>
    public static async Task<string?> ChecksumProblemAsync(PointRecord point, SafeFileHandle handle, CancellationToken cancellationToken, Action<long>? read = null)
    {
        if (point.FileSha256 is not { } recorded)
        {
            return null;
        }

        try
        {
            var digest = await FileChecksum.ComputeAsync(handle, cancellationToken, read).ConfigureAwait(false);
            return digest.Sha256 == recorded
                ? null
                : $"its SHA-256 is {digest.Sha256[..16]}…, not the {recorded[..Math.Min(16, recorded.Length)]}… recorded when it was written: its content changed";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"its file cannot be read: {IoErrorText.Reason(ex)}";
        }
    }

    /// <summary>Refuses to use <paramref name="point"/> unless every file of its chain passes <see cref="Examine"/>.</summary>
    /// <exception cref="OfflineExportException">DamagedPoint, naming the damaged point and what is wrong.</exception>
    public static void RequireIntact(string folder, DiskRecord disk, PointRecord point, string use)
    {
        if (FirstDamage(folder, disk, point) is { } damage)
        {
            throw Damaged(disk, point, damage.Member, use, damage.What);
        }
    }

    /// <summary>The refusal to <paramref name="use"/> <paramref name="point"/> because <paramref name="member"/> of its chain is damaged.</summary>
    public static OfflineExportException Damaged(DiskRecord disk, PointRecord point, PointRecord member, string use, string what) =>
        new(ErrorKind.DamagedPoint, member == point
            ? $"cannot {use} point {point.Number} of {disk.Name}: point {member.Number} ({member.File}) is damaged: {what}"
            : $"cannot {use} point {point.Number} of {disk.Name}: it needs point {member.Number} ({member.File}), which is damaged: {what}");
}
