namespace OfflineExport.Processes;

/// <summary>The executable of a command does not exist or cannot be executed.</summary>
public sealed class CommandNotFoundException : Exception
{
    /// <summary>Creates the exception for <paramref name="targetFilePath"/>.</summary>
    public CommandNotFoundException(string targetFilePath, Exception inner)
        : base($"cannot run '{targetFilePath}': {inner.Message}", inner)
    {
        TargetFilePath = targetFilePath;
    }

    /// <summary>The executable that could not be started.</summary>
    public string TargetFilePath { get; }
}
