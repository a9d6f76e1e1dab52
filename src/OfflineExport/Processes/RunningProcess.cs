using CliWrap;

namespace OfflineExport.Processes;

/// <summary>
/// A long-running child started with <see cref="ChildProcess.Start"/>: CliWrap drains its pipes; the last
/// lines are kept so that a child's death can be reported as the child's own error (restic's habit), not
/// as the socket error it causes.
/// </summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly CommandTask<CommandResult> _run;
    private readonly CancellationTokenSource _kill;
    private readonly OutputTail _output;
    private readonly Task<int> _exited;

    internal RunningProcess(CommandTask<CommandResult> run, CancellationTokenSource kill, OutputTail output, Action<string>? log)
    {
        _run = run;
        _kill = kill;
        _output = output;
        _exited = ExitCodeAsync(run, log);
    }

    /// <summary>The process id.</summary>
    public int Id => _run.ProcessId;

    /// <summary>Completes with the exit code (128 + signal when killed) once the process has exited and its pipes are drained; -1 when it was killed by us.</summary>
    public Task<int> Exited => _exited;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _exited.IsCompleted;

    /// <summary>The last lines the process wrote to standard error or output.</summary>
    public string OutputTail => _output.ToString();

    /// <summary>The last lines the process wrote, without those <paramref name="omit"/> picks (notes that would only distract from an error).</summary>
    public string OutputTailWithout(Func<string, bool> omit) => _output.ToString(omit);

    /// <summary>Waits for the exit, up to <paramref name="timeout"/>; returns false when it is still running.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var finished = await Task.WhenAny(Exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        return finished == Exited;
    }

    /// <summary>Sends SIGKILL to the process and its children (CliWrap's forceful cancellation).</summary>
    public void Kill()
    {
        try
        {
            _kill.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed: already killed and reaped.
        }
    }

    /// <summary>Kills the process if it still runs and waits for it to be reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!HasExited)
        {
            Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        // A process in uninterruptible I/O (a dead NFS server) may outlive even SIGKILL for a while: its
        // task is then still running and must not be disposed; it ends when the kernel lets the process go.
        if (_run.Task.IsCompleted)
        {
            _run.Dispose();
            _kill.Dispose();
        }
    }

    private static async Task<int> ExitCodeAsync(CommandTask<CommandResult> run, Action<string>? log)
    {
        int code;
        try
        {
            code = (await run.Task.ConfigureAwait(false)).ExitCode;
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or IOException)
        {
            // Killed by us, or CliWrap gave up on a pipe (and killed it): no exit code of its own to tell.
            code = -1;
        }

        log?.Invoke($"exit [{run.ProcessId}]: code {code}");
        return code;
    }
}
