namespace OfflineExport.Processes;

/// <summary>A process exited with a non-zero code while its command asked for validation.</summary>
public sealed class CommandExecutionException : Exception
{
    /// <summary>Creates the exception for <paramref name="command"/>.</summary>
    public CommandExecutionException(Command command, int exitCode, string standardError)
        : base(BuildMessage(command, exitCode, standardError))
    {
        Command = command;
        ExitCode = exitCode;
        StandardError = standardError.Trim();
    }

    /// <summary>The command that failed.</summary>
    public Command Command { get; }

    /// <summary>Its exit code.</summary>
    public int ExitCode { get; }

    /// <summary>Its standard error, trimmed.</summary>
    public string StandardError { get; }

    private static string BuildMessage(Command command, int exitCode, string standardError)
    {
        var name = Path.GetFileName(command.TargetFilePath);
        var detail = TextTail.LastLines(standardError, 3);
        return detail.Length == 0
            ? $"{name} exited with code {exitCode}"
            : $"{name} exited with code {exitCode}: {detail}";
    }
}
