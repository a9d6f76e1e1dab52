using System.ComponentModel;
using CliWrap;
using CliWrap.Buffered;

namespace OfflineExport.Processes;

/// <summary>
/// Runs CliWrap commands the way this tool needs children run: tied to this process when asked, logged,
/// watched for stalls, and with a missing program reported as such. Exit codes are never validated here:
/// the caller knows what a non-zero code means.
/// </summary>
public static class ChildProcess
{
    /// <summary>How long a cancelled run may take to be reaped after SIGKILL before the cancellation is reported anyway.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs <paramref name="command"/> to completion, collecting standard output and error. Cancellation
    /// kills the process tree and throws <see cref="OperationCanceledException"/>; a run that shows no
    /// activity for <see cref="ProcessSettings.ProgressTimeout"/> is killed with <see cref="CommandStalledException"/>
    /// (the process itself is watched, not its children: qemu-img does its work in one process).
    /// </summary>
    public static async Task<BufferedCommandResult> RunBufferedAsync(Command command, ProcessSettings settings, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = Launch(command, settings, c => c.WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(kill.Token));
        var pid = run.ProcessId;
        settings.Log?.Invoke($"run [{pid}]: {command}");
        using var watch = new CancellationTokenSource();
        var stalled = settings.ProgressTimeout is { } timeout ? ProcessActivity.WaitForStallAsync(pid, timeout, watch.Token) : Task.FromResult(false);
        // Completes with the run, or throws as soon as the caller cancels (CliWrap then kills the process tree).
        var finished = run.Task.WaitAsync(cancellationToken);
        try
        {
            if (await Task.WhenAny(finished, stalled).ConfigureAwait(false) == stalled && await stalled.ConfigureAwait(false))
            {
                await kill.CancelAsync().ConfigureAwait(false);
                await ReapedOrGraceAsync(run.Task).ConfigureAwait(false);
                _ = finished.ContinueWith(static t => t.Exception, TaskScheduler.Default);
                settings.Log?.Invoke($"stalled [{pid}]: no progress for {settings.ProgressTimeout!.Value.TotalSeconds:0.#} s; killed");
                throw new CommandStalledException(command, settings.ProgressTimeout!.Value);
            }

            BufferedCommandResult result;
            try
            {
                result = await finished.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await ReapedOrGraceAsync(run.Task).ConfigureAwait(false);
                throw;
            }

            settings.Log?.Invoke($"exit [{pid}]: code {result.ExitCode} after {result.RunTime.TotalMilliseconds:F0} ms");
            return result;
        }
        finally
        {
            await watch.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for a killed run to be reaped, at most <see cref="KillGrace"/>: a process stuck in uninterruptible
    /// I/O (a dead NFS server) outlives SIGKILL until the kernel lets it go, and Ctrl-C must not wait for that.
    /// </summary>
    private static async Task ReapedOrGraceAsync(Task run)
    {
        await Task.WhenAny(run, Task.Delay(KillGrace, CancellationToken.None)).ConfigureAwait(false);
        // Observed here, so a run that ends in its cancellation later raises nothing.
        _ = run.ContinueWith(static t => t.Exception, TaskScheduler.Default);
    }

    /// <summary>
    /// Starts a long-running child (a daemon) with standard input closed; its output is drained and its
    /// last lines kept for error messages. Disposing the returned process kills it if it still runs.
    /// </summary>
    public static RunningProcess Start(Command command, ProcessSettings settings, int outputTailLines = 20)
    {
        var output = new OutputTail(outputTailLines);
        var stop = new CancellationTokenSource();
        void Line(string line)
        {
            if (line.Length > 0)
            {
                settings.Log?.Invoke($"[{output.ProcessId}] {line}");
                output.Add(line);
            }
        }

        var piped = command
            .WithStandardOutputPipe(PipeTarget.ToDelegate(Line))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(Line))
            .WithValidation(CommandResultValidation.None);
        CommandTask<CommandResult> run;
        try
        {
            run = Launch(piped, settings, c => c.ExecuteAsync(stop.Token));
        }
        catch
        {
            stop.Dispose();
            throw;
        }

        output.ProcessId = run.ProcessId;
        settings.Log?.Invoke($"start [{run.ProcessId}]: {command}");
        return new RunningProcess(run, stop, output, settings.Log);
    }

    /// <summary>
    /// Starts the child: on the launcher thread through setpriv when it must die with us, or through setsid in a
    /// session of its own; a missing program would otherwise surface as setpriv's or setsid's own failure to exec.
    /// </summary>
    private static CommandTask<T> Launch<T>(Command command, ProcessSettings settings, Func<Command, CommandTask<T>> execute)
    {
        if ((settings.TiedToParent || settings.OwnSession) && !IsRunnable(command.TargetFilePath))
        {
            throw new CommandNotFoundException(command.TargetFilePath, "No such file or directory");
        }

        try
        {
            if (settings.TiedToParent && ProcessLauncher.CanTieToParent)
            {
                return ProcessLauncher.Run(() => execute(ProcessLauncher.TiedToParent(command)));
            }

            return execute(settings.OwnSession && ProcessLauncher.CanStartInOwnSession ? ProcessLauncher.InOwnSession(command) : command);
        }
        catch (Win32Exception ex)
        {
            // CliWrap wraps the error of execve (ENOENT, EACCES): report the innermost one.
            var reason = ex;
            while (reason.InnerException is Win32Exception inner)
            {
                reason = inner;
            }

            throw new CommandNotFoundException(command.TargetFilePath, reason.Message, ex);
        }
    }

    private static bool IsRunnable(string program)
    {
        if (program.Contains('/'))
        {
            return File.Exists(program);
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(folder => File.Exists(Path.Combine(folder, program)));
    }
}
