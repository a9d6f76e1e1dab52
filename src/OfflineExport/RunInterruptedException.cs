namespace OfflineExport;

/// <summary>
/// A cancelled run that did something on its way out the user must hear of (a domain started again, or left running with
/// a shutdown request pending): the command line ends its "interrupted" line with <see cref="Outcome"/>.
/// </summary>
public sealed class RunInterruptedException : OperationCanceledException
{
    /// <summary>Creates the exception for the run's <paramref name="cause"/>, the failure the cancellation surfaced as.</summary>
    public RunInterruptedException(string outcome, Exception cause)
        : base(cause.Message, cause)
    {
        Outcome = outcome;
    }

    /// <summary>What the run did on its way out, in words for the user.</summary>
    public string Outcome { get; }
}
