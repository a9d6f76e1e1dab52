namespace OfflineExport.Export;

/// <summary>What a copy did.</summary>
/// <param name="BytesCopied">Bytes read from the source and written to the target.</param>
/// <param name="BytesZeroed">Bytes written to the target as zeroes.</param>
/// <param name="Requests">Requests issued to the target.</param>
/// <param name="PlannedData">Bytes the plan sent as data ranges.</param>
/// <param name="PlannedZero">Bytes the plan sent as zero ranges.</param>
public sealed record CopyStatistics(ulong BytesCopied, ulong BytesZeroed, long Requests, ulong PlannedData, ulong PlannedZero);
