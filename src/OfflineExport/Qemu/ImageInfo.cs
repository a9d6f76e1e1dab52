using System.Text.Json.Serialization;

namespace OfflineExport.Qemu;

/// <summary>One layer as <c>qemu-img info --output=json</c> describes it (kebab-case fields).</summary>
public sealed record ImageInfo
{
    /// <summary>The layer's file name as qemu resolved it.</summary>
    public required string Filename { get; init; }

    /// <summary>The image format, e.g. "qcow2" or "raw".</summary>
    public required string Format { get; init; }

    /// <summary>The virtual disk size in bytes.</summary>
    public long VirtualSize { get; init; }

    /// <summary>Bytes the file occupies on the host, if known.</summary>
    public long? ActualSize { get; init; }

    /// <summary>The qcow2 cluster size, if any.</summary>
    public int? ClusterSize { get; init; }

    /// <summary>The backing file name as recorded in the header.</summary>
    public string? BackingFilename { get; init; }

    /// <summary>The backing file name resolved against this layer's folder.</summary>
    public string? FullBackingFilename { get; init; }

    /// <summary>The backing file's format as recorded in the header (absent: unrecorded, qemu would probe).</summary>
    public string? BackingFilenameFormat { get; init; }

    /// <summary>True when the image was not closed cleanly (lazy refcounts).</summary>
    public bool? DirtyFlag { get; init; }

    /// <summary>True when the layer's guest data is encrypted (qcow2 with LUKS or the old AES).</summary>
    public bool? Encrypted { get; init; }

    /// <summary>Format-specific details (qcow2: bitmaps, corrupt flag, encryption).</summary>
    public ImageFormatSpecific? FormatSpecific { get; init; }

    /// <summary>
    /// True when the layer is a qcow2 that holds no cluster (every read falls through to its backing), as read
    /// from its header by <see cref="QemuImg.GetBackingChainAsync"/>; false when it holds some or is unknown.
    /// </summary>
    [JsonIgnore]
    public bool HoldsNoClusters { get; init; }

    /// <summary>
    /// The absolute path of the layer's external data file, or null when it has none. A relative name is taken
    /// from the layer's own folder, as libvirt takes it: qemu 7.2 takes it from its working folder, so a run
    /// started elsewhere would read whatever file of that name is there (or fail). Every qemu process that reads
    /// the layer's data is given this path.
    /// </summary>
    [JsonIgnore]
    public string? DataFilePath => FormatSpecific?.Data?.DataFile is { } name && Path.IsPathRooted(Filename)
        ? Path.GetFullPath(name, Path.GetDirectoryName(Filename)!)
        : null;

    /// <summary>The persistent dirty bitmaps stored in this layer.</summary>
    [JsonIgnore]
    public IReadOnlyList<BitmapInfo> Bitmaps => FormatSpecific?.Data?.Bitmaps ?? [];

    /// <summary>True when qemu marked the qcow2 image corrupt.</summary>
    [JsonIgnore]
    public bool IsCorrupt => FormatSpecific?.Data?.Corrupt == true;

    /// <summary>True when qemu reports the layer encrypted; reading it would need its key.</summary>
    [JsonIgnore]
    public bool IsEncrypted => Encrypted == true || FormatSpecific?.Data?.Encrypt is not null;

    /// <summary>True when the layer has a backing file.</summary>
    [JsonIgnore]
    public bool HasBacking => BackingFilename is not null;
}
