using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// The extent of one metadata context that contains a given offset, for offsets that move forward: one
/// BLOCK_STATUS answers a whole window (up to <see cref="Window"/> bytes), and a jump past it asks again
/// from where the caller now is, so a sparse walk never visits the stretches in between. Holds one answer at a time.
/// </summary>
public sealed class ExtentCursor
{
    /// <summary>How far one query looks ahead.</summary>
    public const uint Window = 1u << 30;

    private readonly Func<ulong, uint, CancellationToken, Task<IReadOnlyList<NbdExtent>>> _fetch;
    private readonly ulong _size;
    private readonly string _what;
    private IReadOnlyList<NbdExtent> _extents = [];
    private int _index;

    /// <summary>Creates a cursor over [0, <paramref name="size"/>).</summary>
    /// <param name="fetch">Asks the extents of [offset, offset + length); the first must start at offset.</param>
    /// <param name="size">The disk size.</param>
    /// <param name="what">Names the context in errors.</param>
    public ExtentCursor(Func<ulong, uint, CancellationToken, Task<IReadOnlyList<NbdExtent>>> fetch, ulong size, string what)
    {
        _fetch = fetch;
        _size = size;
        _what = what;
    }

    /// <summary>A cursor over <paramref name="context"/> of <paramref name="client"/>'s export.</summary>
    public static ExtentCursor Over(IBlockSource client, string context, ulong size) =>
        new(async (offset, length, cancellationToken) => (await client.BlockStatusAsync(offset, length, cancellationToken).ConfigureAwait(false))[context], size, context);

    /// <summary>The extent containing <paramref name="offset"/> (which must be below the disk size).</summary>
    public async ValueTask<NbdExtent> AtAsync(ulong offset, CancellationToken cancellationToken)
    {
        if (offset >= _size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is past the disk's end ({_size})");
        }

        if (_index < _extents.Count && _extents[_index].Offset > offset)
        {
            _index = 0; // a step back: start over (never happens in disk order)
        }

        while (_index < _extents.Count && _extents[_index].End <= offset)
        {
            _index++;
        }

        if (_index < _extents.Count && _extents[_index].Offset <= offset)
        {
            return _extents[_index];
        }

        var extents = await _fetch(offset, (uint)Math.Min(_size - offset, Window), cancellationToken).ConfigureAwait(false);
        if (extents.Count == 0 || extents[0].Offset > offset || extents[^1].End <= offset)
        {
            throw new NbdException($"NBD: block status for '{_what}' at offset {offset} did not cover it");
        }

        _extents = extents;
        _index = 0;
        while (_extents[_index].End <= offset)
        {
            _index++;
        }

        return _extents[_index];
    }
}
