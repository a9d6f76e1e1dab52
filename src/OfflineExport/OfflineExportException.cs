namespace OfflineExport;

/// <summary>
/// The one error the library reports to its callers: a one-line message for the user and the
/// <see cref="ErrorKind"/> the command line maps to an exit code. qemu, QMP, NBD and process failures
/// are translated into it by the layer that knows what they mean (<see cref="FailureTranslation"/>).
/// </summary>
public sealed class OfflineExportException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OfflineExportException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    /// <summary>What went wrong, for the exit code.</summary>
    public ErrorKind Kind { get; }

    /// <summary>Another process holds <paramref name="image"/>; <paramref name="detail"/> says how it was seen.</summary>
    public static OfflineExportException ImageInUse(string image, string detail) =>
        new(ErrorKind.ImageInUse, $"image {image} is in use by another process (is the VM still running? shut it down first): {detail}");

    /// <summary><paramref name="program"/> cannot be run (<paramref name="problem"/>); Debian's <paramref name="package"/> provides it.</summary>
    public static OfflineExportException ToolMissing(string program, string package, string problem) =>
        new(ErrorKind.ToolMissing, $"{program} {problem}; install the Debian package {package} (apt-get install {package}) or set its path in the configuration");
}
