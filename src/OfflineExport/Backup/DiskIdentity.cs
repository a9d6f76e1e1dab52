using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// Which disk a point was taken of: the top image's file (device + inode), where it was, its format
/// and size. A point belongs to this disk; a different file at the same path (a replaced or cloned
/// image) starts a new chain.
/// </summary>
public sealed record DiskIdentity
{
    /// <summary>The top image's absolute path with a final symlink resolved (for people; the file is told by <see cref="Device"/> and <see cref="Inode"/>).</summary>
    public required string Path { get; init; }

    /// <summary>The device holding the top image's file.</summary>
    public ulong Device { get; init; }

    /// <summary>The top image's inode on <see cref="Device"/>.</summary>
    public ulong Inode { get; init; }

    /// <summary>
    /// True for a block device: its device node's inode changes at every boot (devtmpfs), so a block
    /// device is told by its path instead.
    /// </summary>
    public bool BlockDevice { get; init; }

    /// <summary>The top image's format ("raw" or "qcow2").</summary>
    public required string Format { get; init; }

    /// <summary>The disk's virtual size in bytes.</summary>
    public long VirtualSize { get; init; }

    /// <summary>The identity of the image at <paramref name="image"/> (symlinks followed), or null when it cannot be examined.</summary>
    public static DiskIdentity? Of(string image, string format, long virtualSize)
    {
        FileIdentity? file;
        string resolved;
        try
        {
            file = FileIdentity.Of(image);
            resolved = File.ResolveLinkTarget(image, returnFinalTarget: true)?.FullName ?? System.IO.Path.GetFullPath(image);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // unknown: the planner then trusts the disk as it did before identities were recorded
        }

        return file is null ? null : new DiskIdentity
        {
            Path = resolved,
            Device = file.Device,
            Inode = file.Inode,
            BlockDevice = file.Kind == FileKind.BlockDevice,
            Format = format,
            VirtualSize = virtualSize,
        };
    }

    /// <summary>True when both name the same file: device and inode, or for block devices the same path.</summary>
    public bool IsSameFileAs(DiskIdentity other) => BlockDevice || other.BlockDevice
        ? BlockDevice == other.BlockDevice && Path == other.Path
        : Device == other.Device && Inode == other.Inode;

    /// <summary>The file as "device:inode" (or the path for a block device), for messages.</summary>
    public string Describe() => BlockDevice ? $"block device {Path}" : $"{Path} (file {Device}:{Inode})";
}
