namespace OfflineExport.Export;

/// <summary>An export refused or failed for a reason the user can act on; the message is one line.</summary>
public sealed class ExportException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ExportException(ExportErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    /// <summary>What went wrong, for the exit code.</summary>
    public ExportErrorKind Kind { get; }
}
