namespace OfflineExport.Backup;

/// <summary>
/// A kept point whose backing chain runs through forgotten points: its file is rewritten to hold their data
/// too, on <paramref name="NewBacking"/> (the nearest kept point under it) or, with none, as a full point.
/// </summary>
/// <param name="Point">The kept point.</param>
/// <param name="NewBacking">The kept point it will be an overlay on, or null: it becomes a full point.</param>
/// <param name="Absorbed">The forgotten points between the two, newest first, whose data it takes in.</param>
public sealed record PointMerge(PointRecord Point, PointRecord? NewBacking, IReadOnlyList<PointRecord> Absorbed);
