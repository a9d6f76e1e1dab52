namespace OfflineExport.Export;

/// <summary>What a long step is doing: the word a progress display puts before its bar.</summary>
public enum ProgressStep
{
    /// <summary>Copying dirty clusters into the new point (an export).</summary>
    Copy,

    /// <summary>Comparing an output with its source (<c>qemu-img compare</c>).</summary>
    Verify,

    /// <summary>Writing a standalone image from a point's chain (<c>qemu-img convert</c>).</summary>
    Restore,

    /// <summary>Reading point files whole to prove their checksums (<c>check --read-data</c>).</summary>
    Read,

    /// <summary>Folding a forgotten point into the one above it (<c>qemu-img rebase</c> or <c>convert</c>).</summary>
    Merge,
}
