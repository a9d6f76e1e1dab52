using System.Buffers.Binary;
using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// Proves a point's backing chain stays inside its backup folder before qemu opens any of it: walks the
/// qcow2 headers' backing names itself (qemu-img would open each backing file to report the next),
/// so a point whose header names a host file is refused without that file ever being read.
/// </summary>
public static class PointChainGuard
{
    private const uint Qcow2Magic = 0x514649fb; // "QFI\xfb"
    private const int MaximumBackingName = 1023; // qemu's own limit

    /// <summary>Refuses a chain that leaves <paramref name="folder"/>, loops, or holds a symlink or a non-qcow2 file.</summary>
    /// <exception cref="OfflineExportException">BackupFolderProblem, naming the point.</exception>
    public static void Check(string folder, string disk, PointRecord point)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var current = Path.Combine(folder, point.File);
        while (true)
        {
            if (FileIdentity.OfLink(current) is not { Kind: FileKind.Regular })
            {
                throw Refuse(point, disk, $"{current} is missing or not a regular file (a symlink or a special file)");
            }

            if (!seen.Add(current))
            {
                throw Refuse(point, disk, $"its chain loops back to {current}");
            }

            var backing = ReadBackingName(current, point, disk);
            if (backing is null)
            {
                return;
            }

            var resolved = Path.GetFullPath(backing, folder);
            if (backing.Contains(':', StringComparison.Ordinal) || !string.Equals(Path.GetDirectoryName(resolved), folder, StringComparison.Ordinal))
            {
                throw Refuse(point, disk, $"{current} is backed by '{backing}', outside the backup folder; nothing was read from there");
            }

            current = resolved;
        }
    }

    private static string? ReadBackingName(string file, PointRecord point, string disk)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            Span<byte> header = stackalloc byte[20];
            stream.ReadExactly(header);
            if (BinaryPrimitives.ReadUInt32BigEndian(header) != Qcow2Magic)
            {
                throw Refuse(point, disk, $"{file} is not a qcow2 image");
            }

            var offset = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
            var size = BinaryPrimitives.ReadUInt32BigEndian(header[16..]);
            if (offset == 0 || size == 0)
            {
                return null;
            }

            if (size > MaximumBackingName || offset > (ulong)stream.Length)
            {
                throw Refuse(point, disk, $"{file} has a damaged backing-file field");
            }

            var name = new byte[size];
            stream.Position = (long)offset;
            stream.ReadExactly(name);
            return System.Text.Encoding.UTF8.GetString(name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Refuse(point, disk, $"{file} cannot be read: {IoErrorText.Reason(ex)}");
        }
    }

    private static OfflineExportException Refuse(PointRecord point, string disk, string why) =>
        new(ErrorKind.BackupFolderProblem, $"the chain of point {point.Number} of {disk} is broken: {why}");
}
