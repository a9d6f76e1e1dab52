using OfflineExport.Cli.Configuration;

namespace OfflineExport.Cli;

/// <summary>Every exit code of the tool, decided here and nowhere else (listed in the README and in --help).</summary>
public static class ExitCodes
{
    /// <summary>Success (for verify: the images are identical).</summary>
    public const int Success = 0;

    /// <summary>Verification found a difference.</summary>
    public const int Different = 1;

    /// <summary>Bad command line or inconsistent options.</summary>
    public const int Usage = 2;

    /// <summary>An image is missing, unreadable, corrupt or unsupported.</summary>
    public const int InvalidImage = 3;

    /// <summary>A checkpoint (dirty bitmap) is missing or cannot be trusted.</summary>
    public const int InvalidCheckpoint = 4;

    /// <summary>The image is in use by another process (a running VM).</summary>
    public const int ImageInUse = 5;

    /// <summary>The output exists, its folder is missing or not writable, or the disk is full.</summary>
    public const int OutputProblem = 6;

    /// <summary>A qemu program is missing.</summary>
    public const int ToolMissing = 7;

    /// <summary>qemu failed: the daemon died, or a qemu command failed unexpectedly.</summary>
    public const int QemuFailure = 8;

    /// <summary>The backup folder is unusable: unreadable manifest, missing point file, locked by another run.</summary>
    public const int BackupFolderProblem = 9;

    /// <summary>A backup point is damaged: its file is missing, truncated, mislinked or changed since it was written (check, restore).</summary>
    public const int DamagedPoint = 11;

    /// <summary>Unexpected internal error (a bug: please report it with --verbose output).</summary>
    public const int InternalError = 10;

    /// <summary>Interrupted by SIGINT (Ctrl-C).</summary>
    public const int Interrupted = 130;

    /// <summary>Terminated by SIGTERM.</summary>
    public const int Terminated = 143;

    /// <summary>The table printed at the end of --help.</summary>
    public const string HelpTable = """
        Exit codes:
          0    success (verify: identical)
          1    verification found a difference
          2    bad command line
          3    image missing, unreadable, corrupt or unsupported
          4    checkpoint (bitmap) missing or not trustworthy
          5    image in use by another process (shut the VM down)
          6    output problem (exists, folder missing or not writable, disk full)
          7    qemu program missing
          8    qemu failure (daemon died, qemu command failed)
          9    backup folder problem (manifest unreadable, folder in use)
          10   internal error
          11   a backup point is damaged (missing, truncated, changed: see 'check')
          130  interrupted (SIGINT), 143 terminated (SIGTERM)
        """;

    /// <summary>
    /// The JSON error's <c>type</c>: the class of failure an exit code stands for, in the words of the
    /// exit-code table (never a .NET type name, which would change with the code).
    /// </summary>
    public static string KindOf(int code) => code switch
    {
        Different => "different",
        Usage => "usage",
        InvalidImage => "image",
        InvalidCheckpoint => "checkpoint",
        ImageInUse => "in-use",
        OutputProblem => "output",
        ToolMissing => "tool",
        QemuFailure => "qemu",
        BackupFolderProblem => "folder",
        DamagedPoint => "damaged",
        Interrupted => "interrupted",
        Terminated => "terminated",
        _ => "bug",
    };

    /// <summary>The exit code for a failure: the kind of a library error, usage for a configuration error, else a bug.</summary>
    public static int FromException(Exception exception) => exception switch
    {
        ConfigurationException => Usage,
        OfflineExportException error => FromKind(error.Kind),
        _ => InternalError,
    };

    /// <summary>The exit code of each kind of library error.</summary>
    public static int FromKind(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidRequest => Usage,
        ErrorKind.InvalidImage => InvalidImage,
        ErrorKind.InvalidCheckpoint or ErrorKind.UntrackedChange => InvalidCheckpoint,
        ErrorKind.ImageInUse => ImageInUse,
        ErrorKind.OutputProblem => OutputProblem,
        ErrorKind.ToolMissing => ToolMissing,
        ErrorKind.QemuFailure => QemuFailure,
        ErrorKind.VerificationFailed => Different,
        ErrorKind.BackupFolderProblem => BackupFolderProblem,
        ErrorKind.DamagedPoint => DamagedPoint,
        _ => InternalError,
    };

    /// <summary>verify's exit code: 0 when identical, 1 when the comparison found a difference.</summary>
    public static int FromComparison(bool identical) => identical ? Success : Different;
}
