using System.Runtime.CompilerServices;
using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Walks one metadata context over a range with BLOCK_STATUS, asking again from wherever each answer
/// ended (a server may cover less than asked). Yields each answer's extents as a batch.
/// </summary>
public static class ExtentScanner
{
    /// <summary>Largest range asked in one BLOCK_STATUS (its length field is 32-bit; see NBD-CLIENT.md).</summary>
    public const uint MaxRequestLength = 0x8000_0000;

    /// <summary>Streams the extents of <paramref name="context"/> over [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static async IAsyncEnumerable<IReadOnlyList<NbdExtent>> ScanAsync(
        NbdClient client,
        string context,
        ulong start,
        ulong end,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var offset = start;
        while (offset < end)
        {
            var length = (uint)Math.Min(end - offset, MaxRequestLength);
            var status = await client.BlockStatusAsync(offset, length, cancellationToken).ConfigureAwait(false);
            var extents = status[context];
            var reached = extents.Count == 0 ? offset : extents[^1].End;
            if (reached <= offset)
            {
                throw new NbdException($"NBD: block status for '{context}' at offset {offset} made no progress");
            }

            yield return extents;
            offset = reached;
        }
    }
}
