using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>What <c>info</c> tells about a disk: its chain, its checkpoints, and whether it is free to export.</summary>
/// <param name="Image">The top image.</param>
/// <param name="Layers">The chain, top first.</param>
/// <param name="Bitmaps">A verdict per checkpoint name found anywhere in the chain.</param>
/// <param name="ChainProblem">Why the chain itself cannot be exported, or null.</param>
/// <param name="InUse">Why the image is in use by another process, or null when it is free.</param>
public sealed record ImageReport(string Image, IReadOnlyList<ImageInfo> Layers, IReadOnlyList<BitmapVerdict> Bitmaps, string? ChainProblem, string? InUse);
