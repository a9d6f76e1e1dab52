namespace OfflineExport.Nbd;

/// <summary>
/// What a copy reads from: the data and the block status of a disk (the read half of nbdcopy's
/// <c>rw_ops</c>). <see cref="NbdClient"/> is the real one; unit tests use a disk in memory, so the
/// planner, the scanner and the copy engine are tested without sockets. The reads and writes return
/// value tasks (an NBD connection completes them from records it uses again): await each once.
/// </summary>
public interface IBlockSource
{
    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>.</summary>
    ValueTask ReadAsync(ulong offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>
    /// The extents of every selected metadata context over [<paramref name="offset"/>, +<paramref name="length"/>).
    /// The answer may cover less than asked (ask again from where it ended), never more.
    /// </summary>
    Task<NbdBlockStatus> BlockStatusAsync(ulong offset, uint length, CancellationToken cancellationToken);
}
