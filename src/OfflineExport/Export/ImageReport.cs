using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>What <c>info</c> tells about a disk: its chain, its checkpoints, and whether it is free to export.</summary>
/// <param name="Image">The top image.</param>
/// <param name="Layers">The chain, top first.</param>
/// <param name="Bitmaps">A verdict per checkpoint name found anywhere in the chain.</param>
/// <param name="ChainProblem">Why the chain itself cannot be exported, or null.</param>
/// <param name="InUse">Why the image is in use by another process, or null when it is free.</param>
/// <param name="FormatOrigin">Whether the top's format was stated or detected by qemu.</param>
public sealed record ImageReport(string Image, IReadOnlyList<ImageInfo> Layers, IReadOnlyList<BitmapVerdict> Bitmaps, string? ChainProblem, string? InUse, FormatOrigin FormatOrigin)
{
    /// <summary>The top's format as read ("raw" or "qcow2", or what qemu detected).</summary>
    public string Format => Layers[0].Format;
}
