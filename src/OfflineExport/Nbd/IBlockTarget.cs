namespace OfflineExport.Nbd;

/// <summary>What a copy writes to (the write half of nbdcopy's <c>rw_ops</c>); see <see cref="IBlockSource"/>.</summary>
public interface IBlockTarget
{
    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    ValueTask WriteAsync(ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="length"/> zero bytes at <paramref name="offset"/> without a payload.</summary>
    ValueTask WriteZeroesAsync(ulong offset, uint length, NbdCommandFlags flags, CancellationToken cancellationToken);

    /// <summary>Makes every write answered so far durable.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
