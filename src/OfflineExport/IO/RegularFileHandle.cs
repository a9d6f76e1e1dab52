using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace OfflineExport.IO;

/// <summary>
/// Opens a regular file and holds it: what is read through the handle is the file that was opened, whatever
/// its name is swapped for later. The open never waits on a named pipe and, unless asked to, follows no
/// symlink at the last step, so a name swapped just before the open cannot hang or redirect it.
/// </summary>
public static partial class RegularFileHandle
{
    private const int Enoent = 2;
    private const int Eperm = 1;
    private const int Eacces = 13;
    private const int Eloop = 40; // what O_NOFOLLOW reports for a symlink
    private const int Enxio = 6;
    private const int Eexist = 17;

    /// <summary>Opens <paramref name="path"/> for reading, refusing anything but a regular file, and a symlink unless <paramref name="followSymlink"/>.</summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="UnauthorizedAccessException">It cannot be read.</exception>
    /// <exception cref="IOException">It is a symlink, a folder, a device, a pipe or a socket, or another error.</exception>
    public static SafeFileHandle OpenForReading(string path, bool followSymlink = false) =>
        Open(path, OpenFlags.ReadOnly | (followSymlink ? 0 : OpenFlags.NoFollow), 0);

    /// <summary>
    /// Opens a disk image for reading: a regular file or a block device (an LVM volume), through symlinks,
    /// never waiting on a named pipe; anything else is refused.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="UnauthorizedAccessException">It cannot be read.</exception>
    /// <exception cref="IOException">It is a folder, a character device, a pipe or a socket, or another error.</exception>
    public static SafeFileHandle OpenImageForReading(string path) => Open(path, OpenFlags.ReadOnly, 0, orBlockDevice: true);

    /// <summary>
    /// Creates the new regular file <paramref name="path"/> with <paramref name="mode"/>, open for reading and
    /// writing: nothing may be there, not even a symlink.
    /// </summary>
    /// <exception cref="IOException">Something is there already, or it cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">Its folder cannot be written.</exception>
    public static SafeFileHandle CreateNew(string path, UnixFileMode mode) =>
        Open(path, OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow, (int)mode);

    /// <summary>The whole text (UTF-8) of the regular file <paramref name="path"/>, read through <see cref="OpenForReading"/>.</summary>
    /// <exception cref="IOException">It is missing, not a regular file, or cannot be read.</exception>
    public static string ReadAllText(string path)
    {
        using var handle = OpenForReading(path);
        using var stream = new FileStream(handle, FileAccess.Read, 1);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// open(2) with <paramref name="flags"/> (never blocking, closed on exec), then the file's kind checked on
    /// the descriptor itself (a block device too when <paramref name="orBlockDevice"/>); <paramref name="mode"/> for a file it creates. Other errors carry only their
    /// cause ("Read-only file system"): callers name the file or its folder.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    /// <exception cref="IOException">It is a symlink (with O_NOFOLLOW) or not a regular file, or another error.</exception>
    internal static SafeFileHandle Open(string path, int flags, int mode, bool orBlockDevice = false)
    {
        var fd = OpenFile(path, flags | OpenFlags.NonBlocking | OpenFlags.CloseOnExec, mode);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                Enoent => new FileNotFoundException($"{path} does not exist", path),
                Eacces or Eperm => new UnauthorizedAccessException($"cannot open {path}: permission denied"),
                Eloop => new IOException($"{path} is a symlink"),
                Eexist => new IOException($"{path} exists already"),
                Enxio => new IOException($"{path} is a socket"),
                _ => new IOException(Marshal.GetPInvokeErrorMessage(errno)),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var kind = FileIdentity.OfOpen(handle).Kind;
            if (kind is not FileKind.Regular && !(orBlockDevice && kind is FileKind.BlockDevice))
            {
                throw new IOException($"{path} is {FileKindText.Describe(kind)}, not a regular file{(orBlockDevice ? " or a block device" : string.Empty)}");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenFile(string path, int flags, int mode);
}
