using OfflineExport.Nbd;

namespace OfflineExport.Tests.Support;

/// <summary>
/// A disk in memory for the copy path's unit tests: data, one extent map per metadata context, and a
/// record of every request it got. Answers to BLOCK_STATUS can be cut short (as a server may), and any
/// request can be made to fail, so the planner, the scanner and the engine are tested without sockets.
/// </summary>
internal sealed class MemoryDisk : IBlockSource, IBlockTarget
{
    private readonly Dictionary<string, List<NbdExtent>> _contexts = [];
    private readonly object _gate = new();
    private byte[]? _data;

    public MemoryDisk(ulong size) => Size = size;

    public ulong Size { get; }

    /// <summary>The most one BLOCK_STATUS answer covers (a short answer is legal; the caller asks again).</summary>
    public ulong MaximumAnswer { get; set; } = ulong.MaxValue;

    /// <summary>Called before each request with its name ("read", "write", "zero", "flush", "status") and offset; may throw.</summary>
    public Action<string, ulong>? BeforeRequest { get; set; }

    public List<(ulong Offset, ulong Length)> Reads { get; } = [];

    public List<(ulong Offset, ulong Length)> Writes { get; } = [];

    public List<(ulong Offset, ulong Length)> Zeroes { get; } = [];

    public List<(ulong Offset, uint Length)> StatusQueries { get; } = [];

    public int Flushes { get; private set; }

    /// <summary>The disk's bytes (allocated on first use, so a planner test of a large disk costs nothing).</summary>
    public byte[] Data => _data ??= new byte[checked((int)Size)];

    /// <summary>Sets the extents of <paramref name="context"/>: (offset, length, flags), which must cover the disk in order.</summary>
    public MemoryDisk WithContext(string context, params (ulong Offset, ulong Length, uint Flags)[] extents)
    {
        var list = extents.Select(e => new NbdExtent(e.Offset, e.Length, e.Flags)).ToList();
        if (list.Count == 0 || list[0].Offset != 0 || list[^1].End != Size || list.Zip(list.Skip(1)).Any(p => p.First.End != p.Second.Offset))
        {
            throw new ArgumentException("the extents must cover the disk in order", nameof(extents));
        }

        _contexts[context] = list;
        return this;
    }

    /// <summary>Fills [<paramref name="offset"/>, +<paramref name="length"/>) with <paramref name="value"/>.</summary>
    public MemoryDisk Fill(ulong offset, ulong length, byte value)
    {
        Data.AsSpan(checked((int)offset), checked((int)length)).Fill(value);
        return this;
    }

    public async ValueTask ReadAsync(ulong offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        await Request("read", offset, (ulong)destination.Length, Reads, cancellationToken);
        Data.AsMemory(checked((int)offset), destination.Length).CopyTo(destination);
    }

    public async ValueTask WriteAsync(ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await Request("write", offset, (ulong)data.Length, Writes, cancellationToken);
        data.CopyTo(Data.AsMemory(checked((int)offset)));
    }

    public async ValueTask WriteZeroesAsync(ulong offset, uint length, NbdCommandFlags flags, CancellationToken cancellationToken)
    {
        await Request("zero", offset, length, Zeroes, cancellationToken);
        Data.AsSpan(checked((int)offset), checked((int)length)).Clear();
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await Request("flush", 0, 0, null, cancellationToken);
        lock (_gate)
        {
            Flushes++;
        }
    }

    public async Task<NbdBlockStatus> BlockStatusAsync(ulong offset, uint length, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        BeforeRequest?.Invoke("status", offset);
        if (length == 0 || offset + length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        lock (_gate)
        {
            StatusQueries.Add((offset, length));
        }

        var end = offset + Math.Min(length, MaximumAnswer);
        var answer = _contexts.ToDictionary(
            c => c.Key,
            c => (IReadOnlyList<NbdExtent>)c.Value
                .Where(e => e.End > offset && e.Offset < end)
                .Select(e => new NbdExtent(Math.Max(e.Offset, offset), Math.Min(e.End, end) - Math.Max(e.Offset, offset), e.Flags))
                .ToList());
        return new NbdBlockStatus(answer);
    }

    private async Task Request(string name, ulong offset, ulong length, List<(ulong, ulong)>? log, CancellationToken cancellationToken)
    {
        await Task.Yield(); // answered later, as a server would: callers must not rely on synchronous completion
        cancellationToken.ThrowIfCancellationRequested();
        BeforeRequest?.Invoke(name, offset);
        if (offset + length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{name} {offset}+{length} is past the end of the {Size}-byte disk");
        }

        if (log is not null)
        {
            lock (_gate)
            {
                log.Add((offset, length));
            }
        }
    }
}
