using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using OfflineExport.IO;

namespace OfflineExport.Qemu;

/// <summary>
/// Reads the backing-file name straight from a qcow2 header, without qemu: qemu-img would open the backing
/// file to report the next one, and a point's header is never trusted that far before it is checked.
/// Each question can be asked of a name or of a file already open, so a caller that holds a file reads
/// exactly the file it will hand on.
/// </summary>
public static class Qcow2Header
{
    /// <summary>The first four bytes of every qcow2 image, "QFI\xfb".</summary>
    internal const uint Magic = 0x514649fb;
    /// <summary>qemu's own limit on a backing file's name.</summary>
    internal const int MaximumBackingName = 1023;

    /// <summary>The backing file name as the header of the open file records it, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">Not a qcow2 image, or a damaged backing-file field.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static string? BackingName(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[20];
        var length = RandomAccess.GetLength(handle);
        if (length < header.Length)
        {
            throw new InvalidDataException("it is not a qcow2 image (too short)");
        }

        ReadExactly(handle, header, 0);
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

        if (size > MaximumBackingName || offset > (ulong)length || offset + size > (ulong)length)
        {
            throw new InvalidDataException("its header has a damaged backing-file field");
        }

        var name = new byte[size];
        ReadExactly(handle, name, (long)offset);
        // qemu reads the name as a C string, up to the first NUL: a name that goes on after one is read one way by qemu and another by us.
        return name.AsSpan().Contains((byte)0)
            ? throw new InvalidDataException("its header has a damaged backing-file field (a NUL byte in the name)")
            : Encoding.UTF8.GetString(name);
    }

    /// <summary>
    /// The size of the disk the qcow2 image describes (its header's <c>size</c>), in bytes.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a qcow2 image.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static long VirtualSize(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[32];
        if (ReadAtMost(handle, header, 0) < header.Length || BinaryPrimitives.ReadUInt32BigEndian(header) != Magic)
        {
            throw new InvalidDataException("it is not a qcow2 image");
        }

        var size = BinaryPrimitives.ReadUInt64BigEndian(header[24..]);
        return size > long.MaxValue ? throw new InvalidDataException("its header records an impossible disk size") : (long)size;
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
            using var handle = RegularFileHandle.OpenImageForReading(path);
            Span<byte> header = stackalloc byte[48];
            var length = RandomAccess.GetLength(handle);
            if (length < header.Length)
            {
                return false;
            }

            ReadExactly(handle, header, 0);
            if (BinaryPrimitives.ReadUInt32BigEndian(header) != Magic)
            {
                return false;
            }

            var entries = BinaryPrimitives.ReadUInt32BigEndian(header[36..]);
            var offset = BinaryPrimitives.ReadUInt64BigEndian(header[40..]);
            // qemu caps the L1 table at 32 MiB; anything larger is damage, not an empty layer.
            if (entries > (32 << 20) / 8 || offset + ((ulong)entries * 8) > (ulong)length)
            {
                return false;
            }

            var table = new byte[64 * 1024];
            var position = (long)offset;
            for (long left = entries * 8L; left > 0;)
            {
                var chunk = (int)Math.Min(left, table.Length);
                ReadExactly(handle, table.AsSpan(0, chunk), position);
                if (table.AsSpan(0, chunk).ContainsAnyExcept((byte)0))
                {
                    return false;
                }

                left -= chunk;
                position += chunk;
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
        using var handle = RegularFileHandle.OpenImageForReading(path);
        return UsesExternalDataFile(handle);
    }

    /// <inheritdoc cref="UsesExternalDataFile(string)"/>
    public static bool UsesExternalDataFile(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[80];
        // Read, not measured: a block device (an LVM volume) reports no length.
        if (ReadAtMost(handle, header, 0) < header.Length)
        {
            return false;
        }

        return BinaryPrimitives.ReadUInt32BigEndian(header) == Magic
            && BinaryPrimitives.ReadUInt32BigEndian(header[4..]) >= 3
            && (BinaryPrimitives.ReadUInt64BigEndian(header[72..]) & 4) != 0;
    }

    /// <summary>
    /// True when the file starts as a qcow2 image that keeps its data in itself (no external data file):
    /// what qemu's probe will call qcow2, and what a check can open without opening any other file.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static bool IsPlainQcow2(string path)
    {
        using var handle = RegularFileHandle.OpenImageForReading(path);
        Span<byte> magic = stackalloc byte[4];
        return ReadAtMost(handle, magic, 0) == magic.Length
            && BinaryPrimitives.ReadUInt32BigEndian(magic) == Magic
            && !UsesExternalDataFile(handle);
    }

    /// <summary>True when the qcow2's data is encrypted (its header's crypt method is not "none").</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static bool IsEncrypted(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[36];
        return ReadAtMost(handle, header, 0) == header.Length
            && BinaryPrimitives.ReadUInt32BigEndian(header) == Magic
            && BinaryPrimitives.ReadUInt32BigEndian(header[32..]) != 0;
    }

    /// <summary>True when qemu marked the qcow2 corrupt (incompatible feature bit 1): it found its metadata inconsistent.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static bool IsMarkedCorrupt(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[80];
        return ReadAtMost(handle, header, 0) == header.Length
            && BinaryPrimitives.ReadUInt32BigEndian(header) == Magic
            && BinaryPrimitives.ReadUInt32BigEndian(header[4..]) >= 3
            && (BinaryPrimitives.ReadUInt64BigEndian(header[72..]) & 2) != 0;
    }

    /// <summary>
    /// The cluster size and whether clusters are allocated in subclusters (<c>extended_l2</c>, incompatible feature
    /// bit 4) of the open qcow2; null when it is not a qcow2 this reads (too short, another magic, odd cluster bits).
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static (int ClusterSize, bool ExtendedL2)? ClusterLayout(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[80];
        var read = ReadAtMost(handle, header, 0);
        if (read < 24 || BinaryPrimitives.ReadUInt32BigEndian(header) != Magic)
        {
            return null;
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        var clusterBits = BinaryPrimitives.ReadUInt32BigEndian(header[20..]);
        if (clusterBits is < 9 or > 21 || (version >= 3 && read < header.Length))
        {
            return null;
        }

        var extended = version >= 3 && (BinaryPrimitives.ReadUInt64BigEndian(header[72..]) & 16) != 0;
        return (1 << (int)clusterBits, extended);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        if (ReadAtMost(handle, buffer, offset) < buffer.Length)
        {
            throw new EndOfStreamException("the file ended inside its qcow2 header");
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns how much was read.</summary>
    internal static int ReadAtMost(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var count = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (count == 0)
            {
                break;
            }

            total += count;
        }

        return total;
    }
}
