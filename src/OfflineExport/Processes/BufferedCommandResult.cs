namespace OfflineExport.Processes;

/// <summary>The outcome of a process run with <see cref="Command.ExecuteBufferedAsync"/>.</summary>
/// <param name="ExitCode">The exit code (128 + signal number when killed by a signal).</param>
/// <param name="StartTime">When the process started.</param>
/// <param name="ExitTime">When it exited.</param>
/// <param name="StandardOutput">Everything it wrote to standard output.</param>
/// <param name="StandardError">Everything it wrote to standard error.</param>
public sealed record BufferedCommandResult(
    int ExitCode,
    DateTimeOffset StartTime,
    DateTimeOffset ExitTime,
    string StandardOutput,
    string StandardError)
{
    /// <summary>How long the process ran.</summary>
    public TimeSpan RunTime => ExitTime - StartTime;

    /// <summary>True when the exit code is 0.</summary>
    public bool IsSuccess => ExitCode == 0;
}
