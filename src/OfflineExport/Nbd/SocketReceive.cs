using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>
/// Blocking receives straight through <c>recv(2)</c>: one that returns only once the whole buffer is filled
/// (<c>MSG_WAITALL</c>), which .NET's <see cref="Socket"/> does not offer (a 512 KiB READ payload arrives in
/// the kernel in several pieces, and each would otherwise be one more return to this process and one more
/// <c>recvmsg</c>), and one for reply headers that takes what has arrived, without .NET's layers around each call.
/// </summary>
internal static partial class SocketReceive
{
    private const int MsgWaitAll = 0x100;
    private const int Eintr = 4;

    /// <summary>Fills <paramref name="destination"/> from <paramref name="socket"/>; the socket must be in blocking mode.</summary>
    /// <exception cref="EndOfStreamException">The peer closed the connection first (or it was shut down from here).</exception>
    /// <exception cref="IOException">The receive failed.</exception>
    public static unsafe void Exactly(SafeHandle socket, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            nint received;
            fixed (byte* buffer = destination)
            {
                received = Recv(socket, buffer, (nuint)destination.Length, MsgWaitAll);
            }

            if (received > 0)
            {
                destination = destination[(int)received..];
            }
            else if (received == 0)
            {
                throw new EndOfStreamException();
            }
            else if (Marshal.GetLastPInvokeError() is var errno && errno != Eintr)
            {
                throw new IOException($"receive failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
    }

    /// <summary>
    /// Receives what has arrived into <paramref name="destination"/>, waiting for at least one byte; 0 at the
    /// end of the stream (or after a shutdown from this side). The socket must be in blocking mode.
    /// </summary>
    /// <exception cref="IOException">The receive failed.</exception>
    public static unsafe int Some(SafeHandle socket, Span<byte> destination)
    {
        while (true)
        {
            nint received;
            fixed (byte* buffer = destination)
            {
                received = Recv(socket, buffer, (nuint)destination.Length, 0);
            }

            if (received >= 0)
            {
                return (int)received;
            }

            if (Marshal.GetLastPInvokeError() is var errno && errno != Eintr)
            {
                throw new IOException($"receive failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Recv(SafeHandle socket, byte* buffer, nuint length, int flags);
}
