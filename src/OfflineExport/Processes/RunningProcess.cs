using System.Diagnostics;

namespace OfflineExport.Processes;

/// <summary>
/// A long-running child started with <see cref="Command.Start"/>. Its output pipes are drained in
/// the background so it never blocks; the last lines of standard error are kept so that a child's
/// death can be reported as the child's own error (restic's habit), not as the socket error it causes.
/// </summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _stderrTail = new();
    private readonly int _tailLines;
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RunningProcess(Command command, Process process, int tailLines)
    {
        Command = command;
        _process = process;
        _tailLines = tailLines;
        Id = process.Id;
        _stdoutPump = PumpAsync(process.StandardOutput);
        _stderrPump = PumpAsync(process.StandardError);
        _ = WatchExitAsync();
    }

    /// <summary>The command that started this process.</summary>
    public Command Command { get; }

    /// <summary>The process id.</summary>
    public int Id { get; }

    /// <summary>Completes with the exit code (128 + signal when killed) once the process has exited and its pipes are drained.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The last lines the process wrote to standard error or output.</summary>
    public string OutputTail
    {
        get
        {
            lock (_stderrTail)
            {
                return string.Join(" | ", _stderrTail);
            }
        }
    }

    /// <summary>Waits for the exit, up to <paramref name="timeout"/>; returns false when it is still running.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var finished = await Task.WhenAny(Exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        return finished == Exited;
    }

    /// <summary>Sends SIGKILL to the process and its children.</summary>
    public void Kill() => Command.KillQuietly(_process);

    /// <summary>Kills the process if it still runs and waits for it to be reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!HasExited)
        {
            Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                Command.Log?.Invoke($"[{Id}] {line}");
                lock (_stderrTail)
                {
                    _stderrTail.Enqueue(line.Trim());
                    while (_stderrTail.Count > _tailLines)
                    {
                        _stderrTail.Dequeue();
                    }
                }
            }
        }
        catch (IOException)
        {
            // The pipe broke because the process died: the exit watcher reports it.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task WatchExitAsync()
    {
        try
        {
            await _process.WaitForExitAsync().ConfigureAwait(false);
            await Task.WhenAll(_stdoutPump, _stderrPump).ConfigureAwait(false);
            Command.Log?.Invoke($"exit [{Id}]: code {_process.ExitCode}");
            _exited.TrySetResult(_process.ExitCode);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            _exited.TrySetResult(-1);
        }
    }
}
