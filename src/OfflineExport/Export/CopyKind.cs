namespace OfflineExport.Export;

/// <summary>What to do with a range of the disk.</summary>
public enum CopyKind
{
    /// <summary>Read it from the source and write it to the target.</summary>
    Data,

    /// <summary>It reads as zeroes: WRITE_ZEROES on an incremental target, skip on a full one.</summary>
    Zero,
}
