using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace OfflineExport.IO;

/// <summary>
/// What a path names on the host, compared by identity rather than by spelling: the device and inode
/// that <c>statx(2)</c> reports after following symlinks, with the file's type and size. Two paths
/// name the same file exactly when their identities are equal, whatever symlinks or hard links lie between.
/// </summary>
/// <param name="Device">The containing device (major &lt;&lt; 32 | minor).</param>
/// <param name="Inode">The inode number on that device.</param>
/// <param name="Kind">Regular file, folder, block device, FIFO, …</param>
/// <param name="Size">Size in bytes (of the file itself, not of a block device's contents).</param>
public sealed partial record FileIdentity(ulong Device, ulong Inode, FileKind Kind, long Size)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000; // AT_EMPTY_PATH: statx of the descriptor itself
    private const uint StatxBasicStats = 0x7ff;
    private const uint StatxBirthTime = 0x800;
    private const uint StatxMountId = 0x1000;
    private const int Enoent = 2;
    private const int Enotdir = 20;

    /// <summary>The user id that owns the file.</summary>
    public uint OwnerId { get; init; }

    /// <summary>Its permission bits (rwx for owner, group and others, with setuid, setgid and sticky).</summary>
    public UnixFileMode Permissions { get; init; }

    /// <summary>How many names (hard links) the file has.</summary>
    public uint LinkCount { get; init; }

    /// <summary>
    /// When the file was created, in nanoseconds since 1970 (statx's btime), or null where the file system
    /// does not keep it (NFS, older tmpfs). A copy is a new file, born later; a remount keeps it.
    /// </summary>
    public long? BirthTime { get; init; }

    /// <summary>
    /// The id of the mount the file is reached through (statx's mnt_id, Linux 5.8+), or null where the kernel
    /// does not say. A file bind-mounted over another name has a mount of its own, unlike its folder.
    /// </summary>
    public ulong? MountId { get; init; }

    /// <summary>True when both identities name the same file (device and inode).</summary>
    public bool IsSameFileAs(FileIdentity other) => Device == other.Device && Inode == other.Inode;

    /// <summary>The identity of the file <paramref name="path"/> names (symlinks followed), or null when nothing is there.</summary>
    /// <exception cref="IOException">The path exists but cannot be examined (permissions, I/O error).</exception>
    public static FileIdentity? Of(string path) => Stat(path, followSymlinks: true);

    /// <summary>The identity of <paramref name="path"/> itself: a symlink is reported as a symlink.</summary>
    public static FileIdentity? OfLink(string path) => Stat(path, followSymlinks: false);

    /// <summary>True when <paramref name="first"/> and <paramref name="second"/> both exist and are one file.</summary>
    public static bool AreSameFile(string first, string second) =>
        Of(first) is { } a && Of(second) is { } b && a.IsSameFileAs(b);

    /// <summary>The file an open descriptor refers to, whatever its name leads to by now (fstat).</summary>
    /// <exception cref="IOException">The descriptor cannot be examined.</exception>
    public static FileIdentity OfOpen(Microsoft.Win32.SafeHandles.SafeFileHandle handle) =>
        Stat((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, "an open file")
        ?? throw new IOException("cannot examine an open file");

    private static FileIdentity? Stat(string path, bool followSymlinks) =>
        Stat(AtFdCwd, path, followSymlinks ? 0 : AtSymlinkNoFollow, path);

    private static FileIdentity? Stat(int directoryFd, string path, int flags, string name)
    {
        // struct statx has one layout on every Linux architecture, unlike struct stat.
        var buffer = new byte[256];
        if (Statx(directoryFd, path, flags, StatxBasicStats | StatxBirthTime | StatxMountId, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Enoent or Enotdir)
            {
                return null;
            }

            throw new IOException($"cannot examine {name}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var span = buffer.AsSpan();
        var links = BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
        var owner = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
        var inode = BinaryPrimitives.ReadUInt64LittleEndian(span[32..]);
        var size = BinaryPrimitives.ReadInt64LittleEndian(span[40..]);
        var deviceMajor = BinaryPrimitives.ReadUInt32LittleEndian(span[136..]);
        var deviceMinor = BinaryPrimitives.ReadUInt32LittleEndian(span[140..]);
        var returned = BinaryPrimitives.ReadUInt32LittleEndian(span);
        long? born = (returned & StatxBirthTime) == 0
            ? null
            : (BinaryPrimitives.ReadInt64LittleEndian(span[80..]) * 1_000_000_000L) + BinaryPrimitives.ReadUInt32LittleEndian(span[88..]);
        ulong? mount = (returned & StatxMountId) == 0 ? null : BinaryPrimitives.ReadUInt64LittleEndian(span[144..]);
        return new FileIdentity(((ulong)deviceMajor << 32) | deviceMinor, inode, KindOf(mode), size) { OwnerId = owner, Permissions = (UnixFileMode)(mode & 0xFFF), LinkCount = links, BirthTime = born, MountId = mount };
    }

    private static FileKind KindOf(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0x6000 => FileKind.BlockDevice,
        0x2000 => FileKind.CharacterDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        0xA000 => FileKind.Symlink,
        _ => FileKind.Other,
    };

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte[] buffer);
}
