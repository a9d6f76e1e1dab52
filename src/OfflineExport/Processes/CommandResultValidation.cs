namespace OfflineExport.Processes;

/// <summary>How a finished process's exit code is judged.</summary>
public enum CommandResultValidation
{
    /// <summary>Any exit code is returned to the caller.</summary>
    None = 0,

    /// <summary>A non-zero exit code throws <see cref="CommandExecutionException"/>.</summary>
    ZeroExitCode = 1,
}
