using System.Buffers.Binary;
using System.Text;
using OfflineExport.IO;

namespace OfflineExport.Qemu;

/// <summary>
/// Reads, without qemu, whether qemu's format probe of a file would make it open another file: of the formats
/// qemu probes, qcow2 and qcow name a backing file (qcow2 also an external data file), QED a backing file and
/// VMDK its extents and parent. A guest writes the first bytes of its raw disk, so before qemu probes a file
/// nobody stated the format of, these are read here first. Errs on the side of "it would".
/// </summary>
public static class ProbeReferences
{
    /// <summary>qemu probes the first 2 KiB of a file.</summary>
    private const int ProbeLength = 2048;

    /// <summary>The reference qemu's probe of <paramref name="path"/> would follow, or null when it would open nothing else.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static ProbedReference? Of(string path)
    {
        using var handle = RegularFileHandle.OpenImageForReading(path);
        var buffer = new byte[ProbeLength];
        // Read, not measured: a block device (an LVM volume) reports no length.
        var head = buffer.AsSpan(0, Qcow2Header.ReadAtMost(handle, buffer, 0));
        if (head.Length >= 20 && BinaryPrimitives.ReadUInt32BigEndian(head) == Qcow2Header.Magic)
        {
            var version = BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
            var format = version == 1 ? "qcow" : "qcow2";
            var offset = BinaryPrimitives.ReadUInt64BigEndian(head[8..]);
            var size = BinaryPrimitives.ReadUInt32BigEndian(head[16..]);
            if (offset != 0 && size != 0)
            {
                return new ProbedReference(format, BackingName(handle, offset, size) is { Length: > 0 } name ? $"backing file '{name}'" : "a backing file");
            }

            return version >= 3 && Qcow2Header.UsesExternalDataFile(handle) ? new ProbedReference(format, "an external data file") : null;
        }

        if (head.StartsWith("QED\0"u8))
        {
            return new ProbedReference("qed", "the backing file its header may name");
        }

        return head.StartsWith("KDMV"u8) || head.StartsWith("COWD"u8) || LooksLikeVmdkDescriptor(head)
            ? new ProbedReference("vmdk", "the extent and parent files its descriptor names")
            : null;
    }

    /// <summary>Like <see cref="Of"/>, and null too when the file cannot be read: qemu-img then fails on it and says why.</summary>
    public static ProbedReference? OfReadable(string path)
    {
        try
        {
            return Of(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Pure: a VMDK descriptor as qemu's probe knows it, or more: after lines that are comments ('#') or blank
    /// (spaces, a carriage return), the text starts with "version=".
    /// </summary>
    public static bool LooksLikeVmdkDescriptor(ReadOnlySpan<byte> head)
    {
        while (!head.IsEmpty)
        {
            var end = head.IndexOf((byte)'\n');
            var line = end < 0 ? head : head[..end];
            if (line.StartsWith("#"u8) || line.TrimEnd("\r"u8).Trim((byte)' ').IsEmpty)
            {
                head = end < 0 ? [] : head[(end + 1)..];
                continue;
            }

            return line.TrimStart((byte)' ').StartsWith("version="u8);
        }

        return false;
    }

    /// <summary>The backing name as qemu reads it (up to a NUL), or null when it cannot be read.</summary>
    private static string? BackingName(Microsoft.Win32.SafeHandles.SafeFileHandle handle, ulong offset, uint size)
    {
        if (offset > long.MaxValue)
        {
            return null;
        }

        var name = new byte[Math.Min(size, Qcow2Header.MaximumBackingName)];
        var bytes = name.AsSpan(0, Qcow2Header.ReadAtMost(handle, name, (long)offset));
        var nul = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? bytes[..nul] : bytes);
    }
}
