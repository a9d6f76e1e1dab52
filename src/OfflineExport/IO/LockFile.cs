using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OfflineExport.IO;

/// <summary>
/// An advisory lock (<c>flock</c>) on a file of a folder, taken without ever following a symlink at the last
/// step or waiting on a pipe: a name swapped for a symlink just before the open cannot make this process
/// create or lock a file elsewhere.
/// </summary>
public sealed partial class LockFile : IDisposable
{
    private const int LockShared = 1;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int Eintr = 4;
    private const int Ewouldblock = 11;
    private const int NewFileMode = 0b110_100_100; // rw-r--r--

    private readonly SafeFileHandle _handle;

    private LockFile(SafeFileHandle handle) => _handle = handle;

    /// <summary>
    /// Opens (with <paramref name="create"/>: creates) <paramref name="path"/> and takes the lock at once, shared or
    /// <paramref name="exclusive"/>; null when another process holds it. Opened read-write when it is created, else
    /// read-only is enough for a shared lock.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">It cannot be opened or created for lack of permission.</exception>
    /// <exception cref="IOException">It is a symlink or not a regular file, or another error (a read-only file system, …).</exception>
    public static LockFile? TryTake(string path, bool exclusive, bool create)
    {
        var handle = RegularFileHandle.Open(path, (create ? OpenFlags.ReadWrite | OpenFlags.Create : OpenFlags.ReadOnly) | OpenFlags.NoFollow, NewFileMode);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            int result;
            do
            {
                result = Flock(fd, (exclusive ? LockExclusive : LockShared) | LockNonBlocking);
            }
            while (result != 0 && Marshal.GetLastPInvokeError() == Eintr);

            if (result == 0)
            {
                return new LockFile(handle);
            }

            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            return errno == Ewouldblock ? null : throw new IOException($"cannot lock {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Releases the lock (closing the file does).</summary>
    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);
}
