using CliWrap;

namespace OfflineExport.Processes;

/// <summary>A child process made no progress (no I/O, no CPU) for its progress timeout and was killed.</summary>
public sealed class CommandStalledException : Exception
{
    /// <summary>Creates the exception for <paramref name="command"/>.</summary>
    public CommandStalledException(Command command, TimeSpan timeout)
        : base($"{Path.GetFileName(command.TargetFilePath)} made no progress for {timeout.TotalSeconds:0.#} s and was stopped ({command}); is a file of the chain a FIFO, or a device or network share that stopped answering?")
    {
        Timeout = timeout;
    }

    /// <summary>How long the process went without progress before it was stopped.</summary>
    public TimeSpan Timeout { get; }
}
