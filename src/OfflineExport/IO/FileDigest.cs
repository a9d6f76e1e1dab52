namespace OfflineExport.IO;

/// <summary>A file's SHA-256 (lower-case hex) and size in bytes, as a point records them when it is written.</summary>
/// <param name="Sha256">64 lower-case hex digits.</param>
/// <param name="Size">The file's length.</param>
public sealed record FileDigest(string Sha256, long Size);
