using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>
/// The few Linux calls zero-copy forwarding needs: pipes sized with F_SETPIPE_SZ, splice(2) between a
/// socket and a pipe, and plain read/write on the pipe. Errors come back as errno, never as exceptions,
/// so callers can tell "would block" from a real failure.
/// </summary>
internal static partial class LinuxSplice
{
    public const int WouldBlock = 11; // EAGAIN
    public const int Interrupted = 4; // EINTR
    public const int NotPermitted = 1; // EPERM

    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int NonBlocking = 0x800; // O_NONBLOCK
    private const int SetPipeSize = 1031; // F_SETPIPE_SZ
    private const uint MovePages = 1; // SPLICE_F_MOVE
    private const uint DontWait = 2; // SPLICE_F_NONBLOCK

    /// <summary>Creates a non-blocking, close-on-exec pipe; false with errno on failure.</summary>
    public static unsafe bool TryCreatePipe(out int readFd, out int writeFd, out int errno)
    {
        var fds = stackalloc int[2];
        if (Pipe2(fds, CloseOnExec | NonBlocking) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            readFd = writeFd = -1;
            return false;
        }

        readFd = fds[0];
        writeFd = fds[1];
        errno = 0;
        return true;
    }

    /// <summary>Asks for a pipe of at least <paramref name="bytes"/>; returns the size granted, or -errno.</summary>
    public static int Resize(int fd, int bytes)
    {
        var granted = Fcntl(fd, SetPipeSize, bytes);
        return granted >= 0 ? granted : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Moves up to <paramref name="count"/> bytes without blocking; bytes moved (0 = end of input), or -errno.</summary>
    public static long Move(int fromFd, int toFd, int count)
    {
        var moved = Splice(fromFd, 0, toFd, 0, (nuint)count, MovePages | DontWait);
        return moved >= 0 ? moved : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Writes from memory into a pipe; bytes written, or -errno.</summary>
    public static unsafe long Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* pointer = data)
        {
            var written = WriteNative(fd, pointer, (nuint)data.Length);
            return written >= 0 ? written : -Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Reads from a pipe into memory; bytes read, or -errno.</summary>
    public static unsafe long Read(int fd, Span<byte> destination)
    {
        fixed (byte* pointer = destination)
        {
            var read = ReadNative(fd, pointer, (nuint)destination.Length);
            return read >= 0 ? read : -Marshal.GetLastPInvokeError();
        }
    }

    public static void Close(int fd)
    {
        if (fd >= 0)
        {
            _ = CloseNative(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(int fdIn, nint offsetIn, int fdOut, nint offsetOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteNative(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadNative(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);
}
