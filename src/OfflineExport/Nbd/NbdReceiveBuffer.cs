using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>
/// Buffered reading for the reply loop: headers are parsed out of one buffer filled by a single
/// receive (instead of a syscall per field), while large data payloads bypass it and land straight in
/// the caller's memory, in one receive that waits for all of it. The buffer is small on purpose: what it
/// takes of a payload that follows a header is copied once more. One owner (the connection's reply reader);
/// not thread-safe. Blocking: it reads a blocking socket's descriptor with <c>recv(2)</c> (<see cref="SocketReceive"/>),
/// and shutting that socket down is what ends a wait.
/// </summary>
internal sealed class NbdReceiveBuffer : IDisposable
{
    private const int Size = 4 * 1024;
    private readonly SafeHandle _socket;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Size);
    private int _start;
    private int _end;

    public NbdReceiveBuffer(Socket socket) => _socket = socket.SafeHandle;

    /// <summary>Bytes received but not consumed yet.</summary>
    public int Buffered => _end - _start;

    /// <summary>The next <paramref name="count"/> buffered bytes (after <see cref="Ensure"/>).</summary>
    public ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    /// <summary>Marks <paramref name="count"/> bytes as consumed.</summary>
    public void Consume(int count) => _start += count;

    /// <summary>
    /// Makes at least <paramref name="count"/> bytes available. Returns false on a clean end of stream
    /// (nothing buffered) when <paramref name="eofAllowed"/>; a stream that ends mid-message throws.
    /// </summary>
    public bool Ensure(int count, bool eofAllowed = false)
    {
        if (Buffered >= count)
        {
            return true;
        }

        if (_start > 0)
        {
            // Move the tail to the front so the buffer has room for the rest.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, Buffered);
            _end = Buffered;
            _start = 0;
        }

        while (_end < count)
        {
            var read = SocketReceive.Some(_socket, _buffer.AsSpan(_end));
            if (read == 0)
            {
                if (_end == 0 && eofAllowed)
                {
                    return false;
                }

                throw new EndOfStreamException();
            }

            _end += read;
        }

        return true;
    }

    /// <summary>Fills <paramref name="destination"/>: first from the buffer, the rest straight from the socket.</summary>
    public void Read(Span<byte> destination)
    {
        var fromBuffer = Math.Min(Buffered, destination.Length);
        _buffer.AsSpan(_start, fromBuffer).CopyTo(destination);
        _start += fromBuffer;
        if (fromBuffer < destination.Length)
        {
            SocketReceive.Exactly(_socket, destination[fromBuffer..]);
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
