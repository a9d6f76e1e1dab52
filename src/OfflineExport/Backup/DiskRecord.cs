using System.Text.Json.Serialization;

namespace OfflineExport.Backup;

/// <summary>One disk in a backup folder: its points and the checkpoint that tracks changes since the latest.</summary>
public sealed record DiskRecord
{
    /// <summary>The disk's name: its image file name without extension ("vda.qcow2" → "vda").</summary>
    public required string Name { get; init; }

    /// <summary>The source image of the latest point.</summary>
    public required string Source { get; init; }

    /// <summary>The virtual size at the latest point.</summary>
    public long VirtualSize { get; init; }

    /// <summary>The checkpoint (bitmap in the source) that records writes since the latest point.</summary>
    public string? CurrentCheckpoint { get; init; }

    /// <summary>The points, oldest first.</summary>
    public IReadOnlyList<PointRecord> Points { get; init; } = [];

    /// <summary>The newest point, if any.</summary>
    [JsonIgnore]
    public PointRecord? Latest => Points.Count == 0 ? null : Points[^1];

    /// <summary>The points of the current chain: the last full point and everything after it.</summary>
    [JsonIgnore]
    public IReadOnlyList<PointRecord> CurrentChain
    {
        get
        {
            var lastFull = Points.Select((p, i) => (p, i)).LastOrDefault(x => x.p.Level == PointLevel.Full);
            return lastFull.p is null ? [] : Points.Skip(lastFull.i).ToList();
        }
    }

    /// <summary>The point numbered <paramref name="number"/>, or null.</summary>
    public PointRecord? Point(int number) => Points.FirstOrDefault(p => p.Number == number);
}
