using System.Runtime.CompilerServices;
using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Walks one metadata context over a range with BLOCK_STATUS, asking again from wherever each answer
/// ended (a server may cover less than asked). Yields each answer's extents as a batch, in order.
/// </summary>
/// <remarks>
/// The range (or each of several stretches) is asked in windows of <see cref="MaxRequestLength"/>, up to <see cref="Lookahead"/> of
/// them at once: a clean 2 TiB disk is otherwise a thousand round trips one after the other. An answer
/// that covers less than its window is completed before the next window's answer is used.
/// </remarks>
public static class ExtentScanner
{
    /// <summary>Largest range asked in one BLOCK_STATUS: its length field is 32-bit, so 4 GiB less one 64 KiB cluster (see NBD-CLIENT.md).</summary>
    public const uint MaxRequestLength = 0xFFFF_0000;

    /// <summary>Windows asked ahead of the one being used (the connection needs this many requests in flight).</summary>
    public const int Lookahead = 8;

    /// <summary>Streams the extents of <paramref name="context"/> over [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public static IAsyncEnumerable<IReadOnlyList<NbdExtent>> ScanAsync(IBlockSource client, string context, ulong start, ulong end, CancellationToken cancellationToken) =>
        ScanAsync(client, context, [new ByteRange(start, end - start)], cancellationToken);

    /// <summary>Streams the extents of <paramref name="context"/> over each of <paramref name="stretches"/> (in order, apart), with windows asked ahead across them.</summary>
    public static async IAsyncEnumerable<IReadOnlyList<NbdExtent>> ScanAsync(
        IBlockSource client,
        string context,
        IReadOnlyList<ByteRange> stretches,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ahead = new Queue<(ulong Offset, ulong End, Task<NbdBlockStatus> Answer)>();
        var stretch = 0;
        var next = stretches.Count > 0 ? stretches[0].Offset : 0;
        try
        {
            while (true)
            {
                while (ahead.Count < Lookahead && stretch < stretches.Count)
                {
                    var end = stretches[stretch].End;
                    if (next < end)
                    {
                        var length = (uint)Math.Min(end - next, MaxRequestLength);
                        ahead.Enqueue((next, next + length, client.BlockStatusAsync(next, length, cancellationToken)));
                        next += length;
                    }

                    if (next >= end && ++stretch < stretches.Count)
                    {
                        next = stretches[stretch].Offset;
                    }
                }

                if (!ahead.TryDequeue(out var window))
                {
                    yield break;
                }

                var offset = window.Offset;
                var status = await window.Answer.ConfigureAwait(false);
                while (true)
                {
                    var extents = status[context];
                    var reached = extents.Count == 0 ? offset : extents[^1].End;
                    if (reached <= offset)
                    {
                        throw new NbdException($"NBD: block status for '{context}' at offset {offset} made no progress");
                    }

                    yield return extents;
                    offset = reached;
                    if (offset >= window.End)
                    {
                        break;
                    }

                    status = await client.BlockStatusAsync(offset, (uint)(window.End - offset), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // Answers asked for and no longer wanted (the consumer stopped, or something failed): wait for
            // them, so none is left running or fails unobserved.
            foreach (var (_, _, answer) in ahead)
            {
                try
                {
                    await answer.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Not needed any more; the failure that matters, if any, is already on its way.
                }
            }
        }
    }
}
