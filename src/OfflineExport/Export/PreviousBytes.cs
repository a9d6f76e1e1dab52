using System.Buffers;
using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Reads the previous backup's bytes where metadata alone cannot tell a change (<see cref="UntrackedChangeFinder"/>):
/// over a connection of its own to the daemon's <see cref="BlockGraph.PreviousExport"/>, opened at the first
/// question, one pooled buffer at a time.
/// </summary>
public sealed class PreviousBytes : IAsyncDisposable
{
    private const int Chunk = 1 << 20;

    private readonly string _socket;
    private readonly TimeSpan? _replyTimeout;
    private NbdClient? _client;

    /// <summary>Reads through the daemon's NBD server at <paramref name="socket"/>.</summary>
    public PreviousBytes(string socket, TimeSpan? replyTimeout)
    {
        _socket = socket;
        _replyTimeout = replyTimeout;
    }

    /// <summary>How many bytes were read, for the log.</summary>
    public ulong BytesRead { get; private set; }

    /// <summary>Whether any byte of <paramref name="range"/> in the previous backup is not zero (reading stops at the first chunk that has one).</summary>
    public async Task<bool> HoldsNonZeroAsync(ByteRange range, CancellationToken cancellationToken)
    {
        _client ??= await NbdClient.ConnectUnixAsync(_socket, new NbdClientOptions { ExportName = BlockGraph.PreviousExport, MaxInFlight = 1, ReplyTimeout = _replyTimeout }, cancellationToken).ConfigureAwait(false);
        var chunk = (int)Math.Min(Chunk, _client.Export.MaximumBlockSize);
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        try
        {
            for (var offset = range.Offset; offset < range.End;)
            {
                var length = (int)Math.Min((ulong)chunk, range.End - offset);
                var bytes = buffer.AsMemory(0, length);
                await _client.ReadAsync(offset, bytes, cancellationToken).ConfigureAwait(false);
                BytesRead += (ulong)length;
                if (bytes.Span.ContainsAnyExcept((byte)0))
                {
                    return true;
                }

                offset += (ulong)length;
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Leaves the export politely, if a question was asked.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_client is not null)
        {
            await _client.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the connection, if a question was asked.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
