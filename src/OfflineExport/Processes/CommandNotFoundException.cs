namespace OfflineExport.Processes;

/// <summary>The executable of a command does not exist or cannot be executed.</summary>
public sealed class CommandNotFoundException : Exception
{
    /// <summary>Creates the exception for <paramref name="targetFilePath"/>, which failed to start because of <paramref name="reason"/>.</summary>
    public CommandNotFoundException(string targetFilePath, string reason, Exception? inner = null)
        : base($"cannot run '{targetFilePath}': {reason}", inner)
    {
        TargetFilePath = targetFilePath;
        Reason = reason;
    }

    /// <summary>The executable that could not be started.</summary>
    public string TargetFilePath { get; }

    /// <summary>Why, in the system's words ("No such file or directory", "Permission denied").</summary>
    public string Reason { get; }
}
