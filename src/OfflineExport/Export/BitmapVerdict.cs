namespace OfflineExport.Export;

/// <summary>Whether a checkpoint name can be used for an incremental export, and why not.</summary>
/// <param name="Name">The bitmap name.</param>
/// <param name="Valid">True when an incremental export since it would be accepted.</param>
/// <param name="Reason">Why not (null when valid).</param>
public sealed record BitmapVerdict(string Name, bool Valid, string? Reason);
