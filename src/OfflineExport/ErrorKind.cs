namespace OfflineExport;

/// <summary>What kind of failure an <see cref="OfflineExportException"/> is: the classes of the README's exit-code table.</summary>
public enum ErrorKind
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

    /// <summary>Another process (a running VM, qemu-nbd) holds the image.</summary>
    ImageInUse,

    /// <summary>The output exists, its folder is missing or not writable, or the disk is full.</summary>
    OutputProblem,

    /// <summary>A qemu program is missing or cannot be run.</summary>
    ToolMissing,

    /// <summary>qemu failed: the daemon died or misbehaved, or a qemu command failed unexpectedly.</summary>
    QemuFailure,

    /// <summary>The export finished but <c>qemu-img compare</c> found a difference.</summary>
    VerificationFailed,

    /// <summary>A backup folder is unusable: unreadable manifest, missing point, locked by another run.</summary>
    BackupFolderProblem,

    /// <summary>
    /// A point of a backup folder is damaged: its file is missing, truncated, not what the manifest links, or no
    /// longer of its recorded checksum. The points that need it cannot be restored either.
    /// </summary>
    DamagedPoint,
}
