namespace OfflineExport.Export;

/// <summary>Categories of export failures; the CLI maps each to one exit code.</summary>
public enum ExportErrorKind
{
    /// <summary>The request itself is inconsistent (options that do not go together).</summary>
    InvalidRequest,

    /// <summary>An image (source or previous backup) is missing, unreadable, corrupt or unsupported.</summary>
    InvalidImage,

    /// <summary>A requested checkpoint (dirty bitmap) cannot be trusted for an incremental export.</summary>
    InvalidCheckpoint,

    /// <summary>
    /// The disk changed where the checkpoint did not look (a shrink and re-grow): an incremental on the
    /// previous backup would be wrong. A checkpoint problem (exit 4); a backup run makes a full point instead.
    /// </summary>
    UntrackedChange,

    /// <summary>The output exists, or its folder is missing or not writable.</summary>
    OutputProblem,

    /// <summary>The export finished but <c>qemu-img compare</c> found a difference.</summary>
    VerificationFailed,

    /// <summary>A backup folder is unusable: unreadable manifest, missing point, locked by another run.</summary>
    BackupFolderProblem,
}
