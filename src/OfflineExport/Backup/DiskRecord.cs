using System.Text.Json.Serialization;

namespace OfflineExport.Backup;

/// <summary>One disk in a backup folder: its points and the checkpoint that tracks changes since the latest.</summary>
public sealed record DiskRecord
{
    /// <summary>The disk's name: its image file name without extension ("vda.qcow2" → "vda").</summary>
    public required string Name { get; init; }

    /// <summary>The source image of the latest point.</summary>
    public required string Source { get; init; }

    /// <summary>
    /// The top image's format ("raw" or "qcow2"), recorded at the disk's first point; later runs read the
    /// disk as this format whatever its first bytes now look like. Null in manifests written before it was recorded.
    /// </summary>
    public string? Format { get; init; }

    /// <summary>The virtual size at the latest point.</summary>
    public long VirtualSize { get; init; }

    /// <summary>The checkpoint (bitmap in the source) that records writes since the latest point.</summary>
    public string? CurrentCheckpoint { get; init; }

    /// <summary>The points, oldest first.</summary>
    public IReadOnlyList<PointRecord> Points { get; init; } = [];

    /// <summary>
    /// The recorded format, or for an older record without one, the format its latest point proves: every
    /// run starts a checkpoint on a qcow2 disk and none on a raw one (which cannot hold it). Null when unknown.
    /// </summary>
    [JsonIgnore]
    public string? KnownFormat => Format ?? Latest switch
    {
        null => null,
        { CheckpointCreated: null } => "raw",
        _ => "qcow2",
    };

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
