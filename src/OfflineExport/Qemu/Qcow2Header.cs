using System.Buffers.Binary;
using System.Text;

namespace OfflineExport.Qemu;

/// <summary>
/// Reads the backing-file name straight from a qcow2 header, without qemu: qemu-img would open the backing
/// file to report the next one, and a point's header is never trusted that far before it is checked.
/// </summary>
public static class Qcow2Header
{
    private const uint Magic = 0x514649fb; // "QFI\xfb"
    private const int MaximumBackingName = 1023; // qemu's own limit

    /// <summary>The backing file name as the header records it, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">Not a qcow2 image, or a damaged backing-file field.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static string? BackingName(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        Span<byte> header = stackalloc byte[20];
        if (stream.Length < header.Length)
        {
            throw new InvalidDataException("it is not a qcow2 image (too short)");
        }

        stream.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32BigEndian(header) != Magic)
        {
            throw new InvalidDataException("it is not a qcow2 image");
        }

        var offset = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
        var size = BinaryPrimitives.ReadUInt32BigEndian(header[16..]);
        if (offset == 0 || size == 0)
        {
            return null;
        }

        if (size > MaximumBackingName || offset > (ulong)stream.Length || offset + size > (ulong)stream.Length)
        {
            throw new InvalidDataException("its header has a damaged backing-file field");
        }

        var name = new byte[size];
        stream.Position = (long)offset;
        stream.ReadExactly(name);
        return Encoding.UTF8.GetString(name);
    }

    /// <summary>
    /// True when the qcow2 layer holds no cluster at all, neither data nor zeroes: every L1 entry is zero, so
    /// no L2 table exists and every read falls through to the backing file. An external snapshot's new layer
    /// is like this until the guest writes. False when unsure (not qcow2, unreadable, damaged).
    /// </summary>
    public static bool HoldsNoClusters(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            Span<byte> header = stackalloc byte[48];
            if (stream.Length < header.Length)
            {
                return false;
            }

            stream.ReadExactly(header);
            if (BinaryPrimitives.ReadUInt32BigEndian(header) != Magic)
            {
                return false;
            }

            var entries = BinaryPrimitives.ReadUInt32BigEndian(header[36..]);
            var offset = BinaryPrimitives.ReadUInt64BigEndian(header[40..]);
            // qemu caps the L1 table at 32 MiB; anything larger is damage, not an empty layer.
            if (entries > (32 << 20) / 8 || offset + ((ulong)entries * 8) > (ulong)stream.Length)
            {
                return false;
            }

            stream.Position = (long)offset;
            var table = new byte[64 * 1024];
            for (long left = entries * 8L; left > 0;)
            {
                var chunk = (int)Math.Min(left, table.Length);
                stream.ReadExactly(table, 0, chunk);
                if (table.AsSpan(0, chunk).ContainsAnyExcept((byte)0))
                {
                    return false;
                }

                left -= chunk;
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when the qcow2 keeps its guest data in an external data file (incompatible feature bit 2): its
    /// clusters are read from another file, which neither its backing name nor its checksum covers.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static bool UsesExternalDataFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        Span<byte> header = stackalloc byte[80];
        // Read, not measured: a block device (an LVM volume) reports no length.
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
        {
            return false;
        }

        return BinaryPrimitives.ReadUInt32BigEndian(header) == Magic
            && BinaryPrimitives.ReadUInt32BigEndian(header[4..]) >= 3
            && (BinaryPrimitives.ReadUInt64BigEndian(header[72..]) & 4) != 0;
    }
}
