using System.Runtime.InteropServices;

namespace OfflineExport.IO;

/// <summary>
/// Reads the byte-range locks qemu's file driver keeps on an image it has open: one shared lock
/// at byte 100 + n for each permission n it holds, one at byte 200 + n for each it refuses others.
/// <c>qemu-img info -f raw</c> shares every permission and so never sees a writer of a raw disk;
/// asking the kernel directly sees every qemu holder, whatever the format.
/// </summary>
public static partial class QemuImageLocks
{
    private const int PermissionBase = 100;
    private const int UnsharedBase = 200;
    private const int LockBytes = 100;
    private const int WritePermission = 1; // BLK_PERM_WRITE is bit 1 of qemu's permission mask
    private const int OfdGetLock = 36; // F_OFD_GETLK on Linux
    private const int OfdSetLock = 37; // F_OFD_SETLK on Linux
    private const short ReadLock = 0; // F_RDLCK
    private const short WriteLock = 1; // F_WRLCK
    private const short Unlocked = 2; // F_UNLCK
    private const int FlockSize = 32; // struct flock on 64-bit Linux

    /// <summary>True when a qemu process (a VM, qemu-nbd, qemu-io) has <paramref name="path"/> open for writing.</summary>
    public static bool IsHeldForWriting(string path) => IsLocked(path, PermissionBase + WritePermission, 1);

    /// <summary>
    /// Fails with an <see cref="ErrorKind.ImageInUse"/> error when a qemu process (a running VM) holds
    /// <paramref name="image"/> for writing. The kernel's lock table answers without a process; for a qcow2 it
    /// says what <c>qemu-img info</c> without <c>-U</c> would, and for a raw disk more (qemu-img shares every
    /// permission of a raw image). A writer that starts after this check is stopped by the daemon's own lock.
    /// </summary>
    /// <exception cref="OfflineExportException">A writer holds the image (ImageInUse), or its locks cannot be read (InvalidImage).</exception>
    public static void RefuseIfHeldForWriting(string image)
    {
        bool held;
        try
        {
            held = IsHeldForWriting(image);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"cannot tell whether {image} is in use: {IoErrorText.Reason(ex)}", ex);
        }

        if (held)
        {
            throw OfflineExportException.ImageInUse(image, "a qemu process holds its write lock");
        }
    }

    /// <summary>True when any qemu process has <paramref name="path"/> open, reading or writing.</summary>
    public static bool IsOpenByQemu(string path) => IsLocked(path, PermissionBase, 2 * LockBytes);

    /// <summary>
    /// Refuses the write permission to every qemu that opens <paramref name="path"/> until disposed: a shared
    /// lock on qemu's "unshared write" byte (200 + write), as a qemu that will not share writing holds it. A VM
    /// started meanwhile fails at once ("Failed to get "write" lock") instead of writing under a backup; readers,
    /// our own read-only daemon among them, are not hindered. Null when <paramref name="path"/> is no file qemu locks.
    /// </summary>
    public static IDisposable? HoldAgainstWriters(string path)
    {
        if (FileIdentity.Of(path)?.Kind is not (FileKind.Regular or FileKind.BlockDevice))
        {
            return null;
        }

        // A pipe swapped in after the look above is refused, not waited on.
        var file = RegularFileHandle.OpenImageForReading(path);
        var request = new byte[FlockSize];
        BitConverter.TryWriteBytes(request.AsSpan(0, 2), ReadLock);
        BitConverter.TryWriteBytes(request.AsSpan(8, 8), (long)(UnsharedBase + WritePermission));
        BitConverter.TryWriteBytes(request.AsSpan(16, 8), 1L);
        if (Fcntl((int)file.DangerousGetHandle(), OfdSetLock, request) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            file.Dispose();
            throw new IOException($"cannot lock {path} against writers (errno {errno})");
        }

        // The lock belongs to this open file description: closing the file releases it.
        return file;
    }

    private static bool IsLocked(string path, long start, long length)
    {
        // Opening a FIFO to read would wait for a writer; qemu locks only files and block devices.
        if (FileIdentity.Of(path)?.Kind is not (FileKind.Regular or FileKind.BlockDevice))
        {
            return false;
        }

        using var file = RegularFileHandle.OpenImageForReading(path);
        // Asking whether an exclusive lock could be taken reports any other open file's shared lock.
        var request = new byte[FlockSize];
        BitConverter.TryWriteBytes(request.AsSpan(0, 2), WriteLock);
        BitConverter.TryWriteBytes(request.AsSpan(8, 8), start);
        BitConverter.TryWriteBytes(request.AsSpan(16, 8), length);
        if (Fcntl((int)file.DangerousGetHandle(), OfdGetLock, request) != 0)
        {
            throw new IOException($"cannot read the locks of {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        return BitConverter.ToInt16(request, 0) != Unlocked;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, byte[] flock);
}
