using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>
/// A blocking send of a whole buffer straight through <c>send(2)</c>: .NET's <see cref="Socket.Send(ReadOnlySpan{byte})"/>
/// goes through four layers per call, a measurable share of the copy's CPU at two sends per request
/// (docs/PERFORMANCE.md, session 24). The socket's <c>SO_SNDTIMEO</c> still bounds each wait. The socket must
/// stay in blocking mode (no asynchronous .NET call on it ever, NBD-CLIENT.md): on a non-blocking one every
/// full buffer would read as a timeout.
/// </summary>
internal static partial class SocketSend
{
    private const int MsgNoSignal = 0x4000;
    private const int Eintr = 4;
    private const int Eagain = 11;

    /// <summary>Sends all of <paramref name="data"/> on <paramref name="socket"/>, which must be in blocking mode.</summary>
    /// <exception cref="TimeoutException">The server took nothing for the socket's send timeout.</exception>
    /// <exception cref="IOException">The send failed (the connection is broken or was shut down from here).</exception>
    public static unsafe void All(SafeHandle socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            nint sent;
            fixed (byte* buffer = data)
            {
                sent = Send(socket, buffer, (nuint)data.Length, MsgNoSignal);
            }

            if (sent >= 0)
            {
                data = data[(int)sent..];
            }
            else if (Marshal.GetLastPInvokeError() is var errno && errno == Eagain)
            {
                throw new TimeoutException("the send timed out");
            }
            else if (errno != Eintr)
            {
                throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint Send(SafeHandle socket, byte* buffer, nuint length, int flags);
}
