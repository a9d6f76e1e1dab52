using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace OfflineExport.IO;

/// <summary>
/// Opens a regular file for reading and holds it: what is read through the handle is the file that was
/// opened, whatever its name is swapped for later. The open never waits on a named pipe and, unless asked
/// to, follows no symlink at the last step, so a name swapped just before the open cannot hang or redirect it.
/// </summary>
public static partial class RegularFileHandle
{
    private const int Enoent = 2;
    private const int Eacces = 13;
    private const int Eloop = 40; // what O_NOFOLLOW reports for a symlink
    private const int Enxio = 6;

    /// <summary>Opens <paramref name="path"/> for reading, refusing anything but a regular file, and a symlink unless <paramref name="followSymlink"/>.</summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="UnauthorizedAccessException">It cannot be read.</exception>
    /// <exception cref="IOException">It is a symlink, a folder, a device, a pipe or a socket, or another error.</exception>
    public static SafeFileHandle OpenForReading(string path, bool followSymlink = false)
    {
        var fd = Open(path, OpenFlags.ReadOnly | OpenFlags.NonBlocking | OpenFlags.CloseOnExec | (followSymlink ? 0 : OpenFlags.NoFollow));
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                Enoent => new FileNotFoundException($"{path} does not exist", path),
                Eacces => new UnauthorizedAccessException($"cannot read {path}: permission denied"),
                Eloop => new IOException($"{path} is a symlink"),
                Enxio => new IOException($"{path} is a socket"),
                _ => new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}"),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (FileIdentity.OfOpen(handle).Kind is not FileKind.Regular and var kind)
            {
                throw new IOException($"{path} is {KindText(kind)}, not a regular file");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The whole text (UTF-8) of the regular file <paramref name="path"/>, read through <see cref="OpenForReading"/>.</summary>
    /// <exception cref="IOException">It is missing, not a regular file, or cannot be read.</exception>
    public static string ReadAllText(string path)
    {
        using var handle = OpenForReading(path);
        using var stream = new FileStream(handle, FileAccess.Read, 1);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string KindText(FileKind kind) => kind switch
    {
        FileKind.Directory => "a folder",
        FileKind.Fifo => "a named pipe",
        FileKind.Socket => "a socket",
        FileKind.BlockDevice or FileKind.CharacterDevice => "a device",
        _ => "a special file",
    };

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
