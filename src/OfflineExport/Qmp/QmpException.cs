namespace OfflineExport.Qmp;

/// <summary>A QMP command was answered with an error.</summary>
public sealed class QmpException : Exception
{
    /// <summary>Creates the exception for <paramref name="command"/>'s error reply.</summary>
    public QmpException(string command, string errorClass, string description)
        : base($"QMP {command} failed: {description}")
    {
        Command = command;
        ErrorClass = errorClass;
        Description = description;
    }

    /// <summary>The command that failed, e.g. "blockdev-add".</summary>
    public string Command { get; }

    /// <summary>QEMU's error class, usually "GenericError".</summary>
    public string ErrorClass { get; }

    /// <summary>QEMU's description of the error.</summary>
    public string Description { get; }
}
