using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// Where the previous backup can hold data at all: the stretches some layer of its chain maps with an L2 table
/// (<see cref="Qcow2L1Table"/>). Everywhere else no layer holds a cluster, and the chain, whose bottom has no
/// backing, reads zeroes. The untracked-change check walks only these stretches: a whole walk of a 16 TiB disk is
/// 4,096 BLOCK_STATUS requests (their length is 32-bit), about 60 ms of the daemon's time, for a backup that
/// may hold no data outside a few stretches.
/// </summary>
public static class PreviousBackupMap
{
    /// <summary>More stretches than this (a previous backup mapped everywhere, in pieces) is walked whole.</summary>
    public const int MaximumStretches = 65536;

    /// <summary>
    /// The stretches of [0, <paramref name="size"/>) to walk, in order and apart: those the layers map, or the
    /// whole disk when any layer cannot be read that way (a raw layer, an external data file, anything unsure).
    /// </summary>
    public static IReadOnlyList<ByteRange> StretchesToWalk(PreviousBackup previous, ulong size)
    {
        var mapped = new List<(ulong Start, ulong End)>();
        foreach (var layer in previous.Layers)
        {
            if (layer.Format != ImageFormats.Qcow2 || Qcow2L1Table.MappedStretches(layer.Path, MaximumStretches) is not { } stretches)
            {
                return [new ByteRange(0, size)];
            }

            mapped.AddRange(stretches);
        }

        return Union(mapped, size, MaximumStretches) ?? [new ByteRange(0, size)];
    }

    /// <summary>
    /// Pure: the union of <paramref name="stretches"/> ([Start, End), any order, overlapping or not) cut at
    /// <paramref name="size"/>, in order, touching ones joined; null when more than <paramref name="maximum"/> remain.
    /// </summary>
    public static IReadOnlyList<ByteRange>? Union(IEnumerable<(ulong Start, ulong End)> stretches, ulong size, int maximum)
    {
        var union = new List<ByteRange>();
        foreach (var (start, end) in stretches.Where(s => s.Start < Math.Min(s.End, size)).OrderBy(s => s.Start))
        {
            var stop = Math.Min(end, size);
            if (union.Count > 0 && start <= union[^1].End)
            {
                var last = union[^1];
                union[^1] = new ByteRange(last.Offset, Math.Max(last.End, stop) - last.Offset);
            }
            else if (union.Count == maximum)
            {
                return null;
            }
            else
            {
                union.Add(new ByteRange(start, stop - start));
            }
        }

        return union;
    }
}
