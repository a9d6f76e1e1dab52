using System.Runtime.InteropServices;

namespace OfflineExport.Cli;

/// <summary>
/// Turns SIGINT and SIGTERM into one cancellation token, so every command cleans up (daemon stopped,
/// partial output removed) before exiting with 130 or 143.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    /// <summary>Registers the signal handlers.</summary>
    public Interruption()
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
    }

    /// <summary>Cancelled when a signal arrives.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The signal that arrived first, if any.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>The exit code for the signal received (130 for SIGINT, 143 for SIGTERM).</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;

    /// <summary>Removes the handlers.</summary>
    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Keep the process alive: the commands unwind and clean up, then exit with the signal's code.
        context.Cancel = true;
        Signal ??= context.Signal;
        _source.Cancel();
    }
}
