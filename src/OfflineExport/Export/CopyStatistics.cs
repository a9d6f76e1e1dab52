namespace OfflineExport.Export;

/// <summary>What a copy did.</summary>
/// <param name="BytesCopied">Bytes read from the source and written to the target.</param>
/// <param name="BytesZeroed">Bytes written to the target as zeroes.</param>
/// <param name="BytesSkipped">Bytes read that turned out to be zero and needed no write (full export).</param>
/// <param name="Requests">Requests issued to the target.</param>
/// <param name="PlannedData">Bytes the plan sent as data ranges.</param>
/// <param name="PlannedZero">Bytes the plan sent as zero ranges.</param>
public sealed record CopyStatistics(ulong BytesCopied, ulong BytesZeroed, ulong BytesSkipped, long Requests, ulong PlannedData, ulong PlannedZero);
