using System.Buffers;

namespace OfflineExport.Nbd;

/// <summary>
/// Buffered reading for the reply loop: headers are parsed out of one buffer filled by a single
/// receive (instead of a syscall per field), while large data payloads bypass it and land straight in
/// the caller's memory. One owner (the reader loop); not thread-safe.
/// </summary>
internal sealed class NbdReceiveBuffer : IDisposable
{
    private const int Size = 64 * 1024;
    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Size);
    private int _start;
    private int _end;

    public NbdReceiveBuffer(Stream stream) => _stream = stream;

    /// <summary>Bytes received but not consumed yet.</summary>
    public int Buffered => _end - _start;

    /// <summary>The next <paramref name="count"/> buffered bytes (after <see cref="EnsureAsync"/>).</summary>
    public ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    /// <summary>Marks <paramref name="count"/> bytes as consumed.</summary>
    public void Consume(int count) => _start += count;

    /// <summary>
    /// Makes at least <paramref name="count"/> bytes available. Returns false on a clean end of stream
    /// (nothing buffered) when <paramref name="eofAllowed"/>; a stream that ends mid-message throws.
    /// </summary>
    public async ValueTask<bool> EnsureAsync(int count, bool eofAllowed = false)
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
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end)).ConfigureAwait(false);
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
    public async ValueTask ReadAsync(Memory<byte> destination)
    {
        var fromBuffer = Math.Min(Buffered, destination.Length);
        _buffer.AsSpan(_start, fromBuffer).CopyTo(destination.Span);
        _start += fromBuffer;
        if (fromBuffer < destination.Length)
        {
            await _stream.ReadExactlyAsync(destination[fromBuffer..]).ConfigureAwait(false);
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
