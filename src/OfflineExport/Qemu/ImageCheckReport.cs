namespace OfflineExport.Qemu;

/// <summary>What <c>qemu-img check --output=json</c> counts (kebab-case fields; absent counts are zero).</summary>
public sealed record ImageCheckReport
{
    /// <summary>Metadata that points where it must not (past the end of the file, wrong refcounts).</summary>
    public long Corruptions { get; init; }

    /// <summary>Clusters allocated but unused: wasted space, harmless to readers.</summary>
    public long Leaks { get; init; }

    /// <summary>Errors that kept the check itself from completing (I/O errors).</summary>
    public long CheckErrors { get; init; }
}
