using System.Net.Sockets;

namespace OfflineExport.Nbd;

/// <content>
/// Zero-copy forwarding: a READ payload is spliced from the source socket into a pipe and from the
/// pipe into the target socket, so the data never enters this process (splice(2), Linux).
/// </content>
public sealed partial class NbdClient
{
    /// <summary>Bytes sent through memory when the socket is full: awaiting that send is how we learn it has room again.</summary>
    private const int SendProbeSize = 4096;

    private byte[]? _sendProbe;

    /// <summary>
    /// Reads <paramref name="length"/> bytes at <paramref name="offset"/> into <paramref name="pipe"/>
    /// (which must be empty). When the server's reply does not come as one data chunk, or the pipe
    /// fills up, the data lands in <paramref name="fallback"/> instead; the result says where it is.
    /// </summary>
    public async Task<NbdPipedRead> ReadToPipeAsync(ulong offset, uint length, SplicePipe pipe, Memory<byte> fallback, CancellationToken cancellationToken)
    {
        CheckPayloadLength((int)Math.Min(length, int.MaxValue));
        if (length > pipe.MaxPayload || length > fallback.Length || pipe.Bytes != 0)
        {
            throw new ArgumentException($"a {length}-byte read does not fit the pipe ({pipe.MaxPayload}) or the buffer ({fallback.Length}), or the pipe is not empty");
        }

        var request = new NbdPendingRequest(NbdCommandType.Read, offset, length, fallback[..(int)length]) { Pipe = pipe };
        var flags = Export.CanDontFragment ? NbdCommandFlags.DontFragment : NbdCommandFlags.None;
        await SubmitCoreAsync(request, flags, default, cancellationToken).ConfigureAwait(false);
        return request.PipeOutcome;
    }

    /// <summary>Writes the whole content of <paramref name="pipe"/> at <paramref name="offset"/>, and empties it.</summary>
    public async Task WriteFromPipeAsync(ulong offset, SplicePipe pipe, CancellationToken cancellationToken)
    {
        var length = CheckPayloadLength(pipe.Bytes);
        var request = new NbdPendingRequest(NbdCommandType.Write, offset, length, default) { Pipe = pipe };
        await SubmitCoreAsync(request, NbdCommandFlags.None, default, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The reader loop's half: one OFFSET_DATA chunk covering the whole READ goes into the pipe.</summary>
    private async Task ReceiveIntoPipeAsync(NbdPendingRequest request, SplicePipe pipe)
    {
        var length = (int)request.Length;
        // Whatever the receive buffer already read ahead goes in by a plain write.
        var buffered = Math.Min(_receive.Buffered, length);
        if (buffered > 0)
        {
            var written = LinuxSplice.Write(pipe.WriteFd, _receive.Peek(buffered));
            if (written != buffered)
            {
                throw new IOException($"cannot write into the splice pipe (result {written})");
            }

            _receive.Consume(buffered);
            pipe.Bytes = buffered;
        }

        await WithSocketFdAsync(async socketFd =>
        {
            while (pipe.Bytes < length)
            {
                var moved = LinuxSplice.Move(socketFd, pipe.WriteFd, length - pipe.Bytes);
                if (moved > 0)
                {
                    pipe.Bytes += (int)moved;
                }
                else if (moved == 0)
                {
                    throw new EndOfStreamException();
                }
                else if (moved == -LinuxSplice.WouldBlock && _socket.Available > 0)
                {
                    // Data is waiting, so the pipe is what is full (its slots, not its bytes): finish in memory.
                    var done = pipe.Bytes;
                    pipe.DrainInto(request.Destination.Span);
                    await _receive.ReadAsync(request.Destination[done..]).ConfigureAwait(false);
                    return;
                }
                else if (moved == -LinuxSplice.WouldBlock)
                {
                    // A zero-byte receive completes when data arrives, without consuming any.
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                }
                else if (moved != -LinuxSplice.Interrupted)
                {
                    throw new IOException($"splice from the NBD socket failed (errno {-moved})");
                }
            }

            request.PipeOutcome = NbdPipedRead.InPipe;
        }).ConfigureAwait(false);
    }

    /// <summary>The sender's half (under the send lock): the pipe's content goes out as the WRITE payload.</summary>
    private async Task SendFromPipeAsync(SplicePipe pipe)
    {
        await WithSocketFdAsync(async socketFd =>
        {
            while (pipe.Bytes > 0)
            {
                var moved = LinuxSplice.Move(pipe.ReadFd, socketFd, pipe.Bytes);
                if (moved > 0)
                {
                    pipe.Bytes -= (int)moved;
                }
                else if (moved == -LinuxSplice.WouldBlock)
                {
                    // The socket is full. There is no "wait until writable" to await, but an ordinary send
                    // of the next few bytes waits exactly for that.
                    _sendProbe ??= new byte[SendProbeSize];
                    var probe = _sendProbe.AsMemory(0, Math.Min(SendProbeSize, pipe.Bytes));
                    var read = LinuxSplice.Read(pipe.ReadFd, probe.Span);
                    if (read != probe.Length)
                    {
                        throw new IOException($"cannot read the splice pipe (result {read})");
                    }

                    pipe.Bytes -= probe.Length;
                    await _stream.WriteAsync(probe).ConfigureAwait(false);
                }
                else if (moved != -LinuxSplice.Interrupted)
                {
                    throw new IOException($"splice into the NBD socket failed (result {moved})");
                }
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="action"/> with the socket's descriptor, holding a reference so that a
    /// concurrent close cannot free the number for reuse while splice(2) still uses it.
    /// </summary>
    private async Task WithSocketFdAsync(Func<int, Task> action)
    {
        var handle = _socket.SafeHandle;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            await action((int)handle.DangerousGetHandle()).ConfigureAwait(false);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
