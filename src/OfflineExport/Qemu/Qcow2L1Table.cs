using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using OfflineExport.IO;

namespace OfflineExport.Qemu;

/// <summary>
/// Reads which stretches of the disk a qcow2 layer maps at all: each L1 entry points to one L2 table (or to
/// none), and where it points to none the layer holds no cluster, so every read there falls through to its
/// backing file. Read without qemu, from the header and the L1 table only; whatever this reader does not
/// fully understand gives no answer (null), never a smaller one.
/// </summary>
public static class Qcow2L1Table
{
    private const ulong EntryOffsetMask = 0x00ff_ffff_ffff_fe00; // bits 9-55: the L2 table's offset; 0 = no table
    private const ulong KnownIncompatible = 1 | 2 | 8 | 16; // dirty, corrupt, compression type, extended L2
    private const ulong ExternalDataFile = 4;
    private const ulong Corrupt = 2;
    private const ulong ExtendedL2 = 16;
    private const int MaximumEntries = (32 << 20) / 8; // qemu's own cap on the L1 table

    /// <summary>
    /// The stretches [Start, End) of the disk, in order and apart, for which the qcow2 image at
    /// <paramref name="path"/> has L2 tables; null when unsure (not a qcow2 this reader knows, an external
    /// data file, marked corrupt, damaged, unreadable, or more than <paramref name="maximumStretches"/> stretches).
    /// </summary>
    public static IReadOnlyList<(ulong Start, ulong End)>? MappedStretches(string path, int maximumStretches)
    {
        try
        {
            using var handle = RegularFileHandle.OpenImageForReading(path);
            return MappedStretches(handle, maximumStretches);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <inheritdoc cref="MappedStretches(string, int)"/>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static IReadOnlyList<(ulong Start, ulong End)>? MappedStretches(SafeFileHandle handle, int maximumStretches)
    {
        Span<byte> header = stackalloc byte[104];
        var read = Qcow2Header.ReadAtMost(handle, header, 0);
        if (read < 72 || BinaryPrimitives.ReadUInt32BigEndian(header) != Qcow2Header.Magic)
        {
            return null;
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        var clusterBits = BinaryPrimitives.ReadUInt32BigEndian(header[20..]);
        var encrypted = BinaryPrimitives.ReadUInt32BigEndian(header[32..]) != 0;
        var entries = BinaryPrimitives.ReadUInt32BigEndian(header[36..]);
        var tableOffset = BinaryPrimitives.ReadUInt64BigEndian(header[40..]);
        ulong incompatible = 0;
        if (version == 3)
        {
            if (read < header.Length)
            {
                return null;
            }

            incompatible = BinaryPrimitives.ReadUInt64BigEndian(header[72..]);
        }

        if ((version != 2 && version != 3) || clusterBits < 9 || clusterBits > 21 || encrypted
            || (incompatible & ~KnownIncompatible) != 0 || (incompatible & (ExternalDataFile | Corrupt)) != 0
            || entries > MaximumEntries || tableOffset % 8 != 0)
        {
            return null;
        }

        // One L2 table is one cluster of entries, 8 bytes each (16 with extended L2: the subcluster bitmap).
        var clusterSize = 1UL << (int)clusterBits;
        var bytesPerEntry = clusterSize / ((incompatible & ExtendedL2) != 0 ? 16UL : 8UL) * clusterSize;
        return ReadStretches(handle, tableOffset, entries, bytesPerEntry, maximumStretches);
    }

    private static List<(ulong Start, ulong End)>? ReadStretches(SafeFileHandle handle, ulong tableOffset, uint entries, ulong bytesPerEntry, int maximumStretches)
    {
        var stretches = new List<(ulong Start, ulong End)>();
        var chunk = new byte[64 * 1024];
        for (uint first = 0; first < entries;)
        {
            var count = (int)Math.Min(entries - first, (uint)(chunk.Length / 8));
            var bytes = chunk.AsSpan(0, count * 8);
            if (Qcow2Header.ReadAtMost(handle, bytes, (long)(tableOffset + (first * 8UL))) < bytes.Length)
            {
                return null; // the table runs past the end of the file: damage
            }

            for (var i = 0; i < count; i++)
            {
                if ((BinaryPrimitives.ReadUInt64BigEndian(bytes[(i * 8)..]) & EntryOffsetMask) == 0)
                {
                    continue;
                }

                var start = (first + (ulong)i) * bytesPerEntry;
                if (stretches.Count > 0 && stretches[^1].End == start)
                {
                    stretches[^1] = (stretches[^1].Start, start + bytesPerEntry);
                }
                else if (stretches.Count == maximumStretches)
                {
                    return null;
                }
                else
                {
                    stretches.Add((start, start + bytesPerEntry));
                }
            }

            first += (uint)count;
        }

        return stretches;
    }
}
