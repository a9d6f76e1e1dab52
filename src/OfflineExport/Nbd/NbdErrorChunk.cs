namespace OfflineExport.Nbd;

/// <summary>A decoded ERROR or ERROR_OFFSET chunk.</summary>
/// <param name="Errno">The error value.</param>
/// <param name="Message">The server's message (may be empty).</param>
/// <param name="Offset">The offset the error applies to (ERROR_OFFSET only).</param>
public readonly record struct NbdErrorChunk(uint Errno, string Message, ulong? Offset);
