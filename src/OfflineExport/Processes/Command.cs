using System.Collections.Immutable;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace OfflineExport.Processes;

/// <summary>
/// An immutable description of a child process to run: executable, argument list, working folder,
/// environment and exit-code validation. Built with <c>With…</c> copies, run with
/// <see cref="ExecuteBufferedAsync"/> or <see cref="Start"/>. Shaped after CliWrap, which is not in
/// our package source. Arguments are passed as a list, never through a shell.
/// </summary>
public sealed class Command
{
    /// <summary>Creates a command for <paramref name="targetFilePath"/> with no arguments.</summary>
    public Command(string targetFilePath)
        : this(targetFilePath, [], null, ImmutableDictionary<string, string?>.Empty, CommandResultValidation.ZeroExitCode, null, null, false)
    {
    }

    private Command(
        string targetFilePath,
        ImmutableArray<string> arguments,
        string? workingDirectory,
        ImmutableDictionary<string, string?> environment,
        CommandResultValidation validation,
        Action<string>? log,
        TimeSpan? progressTimeout,
        bool tiedToParent)
    {
        TargetFilePath = targetFilePath;
        Arguments = arguments;
        WorkingDirectory = workingDirectory;
        EnvironmentVariables = environment;
        Validation = validation;
        Log = log;
        ProgressTimeout = progressTimeout;
        TiedToParent = tiedToParent;
    }

    /// <summary>The executable: a path, or a bare name looked up on PATH.</summary>
    public string TargetFilePath { get; }

    /// <summary>The program's name for messages.</summary>
    public string DisplayName => Path.GetFileName(TargetFilePath);

    /// <summary>The arguments, each passed to the process unchanged.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>The working folder, or null for the current one.</summary>
    public string? WorkingDirectory { get; }

    /// <summary>Environment overrides; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?> EnvironmentVariables { get; }

    /// <summary>Whether a non-zero exit code throws <see cref="CommandExecutionException"/>.</summary>
    public CommandResultValidation Validation { get; }

    /// <summary>Receives one line per started and finished process (for <c>--verbose</c>).</summary>
    public Action<string>? Log { get; }

    /// <summary>
    /// How long a buffered run may go without any activity of the process (I/O or CPU, see
    /// <see cref="ProcessActivity"/>) before it is killed with <see cref="CommandStalledException"/>; null: no limit.
    /// </summary>
    public TimeSpan? ProgressTimeout { get; }

    /// <summary>True when the process is killed by the kernel as soon as this process dies (see <see cref="ProcessLauncher"/>).</summary>
    public bool TiedToParent { get; }

    /// <summary>Returns a copy with <paramref name="arguments"/> replacing the argument list.</summary>
    public Command WithArguments(IEnumerable<string> arguments) => Copy(arguments: [.. arguments]);

    /// <summary>Returns a copy that runs in <paramref name="workingDirectory"/>.</summary>
    public Command WithWorkingDirectory(string? workingDirectory) =>
        new(TargetFilePath, (ImmutableArray<string>)Arguments, workingDirectory, Environment, Validation, Log, ProgressTimeout, TiedToParent);

    /// <summary>Returns a copy with the environment variable <paramref name="name"/> set (or removed when null).</summary>
    public Command WithEnvironmentVariable(string name, string? value) => Copy(environment: Environment.SetItem(name, value));

    /// <summary>Returns a copy with another exit-code validation.</summary>
    public Command WithValidation(CommandResultValidation validation) => Copy(validation: validation);

    /// <summary>Returns a copy that reports what it runs to <paramref name="log"/>.</summary>
    public Command WithLog(Action<string>? log) =>
        new(TargetFilePath, (ImmutableArray<string>)Arguments, WorkingDirectory, Environment, Validation, log, ProgressTimeout, TiedToParent);

    /// <summary>Returns a copy that is killed after <paramref name="timeout"/> without progress (null: never).</summary>
    public Command WithProgressTimeout(TimeSpan? timeout) =>
        new(TargetFilePath, (ImmutableArray<string>)Arguments, WorkingDirectory, Environment, Validation, Log, timeout, TiedToParent);

    /// <summary>Returns a copy whose process the kernel kills when this process dies, however it dies.</summary>
    public Command WithTiedToParent(bool tied = true) =>
        new(TargetFilePath, (ImmutableArray<string>)Arguments, WorkingDirectory, Environment, Validation, Log, ProgressTimeout, tied);

    private ImmutableDictionary<string, string?> Environment => (ImmutableDictionary<string, string?>)EnvironmentVariables;

    private Command Copy(ImmutableArray<string>? arguments = null, ImmutableDictionary<string, string?>? environment = null, CommandResultValidation? validation = null) =>
        new(TargetFilePath, arguments ?? (ImmutableArray<string>)Arguments, WorkingDirectory, environment ?? Environment, validation ?? Validation, Log, ProgressTimeout, TiedToParent);

    /// <summary>
    /// Runs the process to completion, collecting standard output and error. Both pipes are read
    /// while waiting so a chatty child never blocks on a full pipe. Cancellation kills the whole
    /// process tree and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<BufferedCommandResult> ExecuteBufferedAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var process = CreateProcess(redirectInput: false);
        var startTime = DateTimeOffset.UtcNow;
        StartOrThrow(process);
        Log?.Invoke($"run [{process.Id}]: {this}");

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stdoutTask = PumpAsync(process.StandardOutput, stdout);
        var stderrTask = PumpAsync(process.StandardError, stderr);
        using var watch = new CancellationTokenSource();
        var stalled = ProgressTimeout is { } timeout ? ProcessActivity.WaitForStallAsync(process.Id, timeout, watch.Token) : Task.FromResult(false);
        try
        {
            var exited = process.WaitForExitAsync(cancellationToken);
            if (await Task.WhenAny(exited, stalled).ConfigureAwait(false) == stalled && await stalled.ConfigureAwait(false))
            {
                KillQuietly(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                Log?.Invoke($"stalled [{process.Id}]: no progress for {ProgressTimeout!.Value.TotalSeconds:0.#} s; killed");
                throw new CommandStalledException(this, ProgressTimeout!.Value);
            }

            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }
        finally
        {
            await watch.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(stdoutTask, stderrTask).ConfigureAwait(false);
        var result = new BufferedCommandResult(process.ExitCode, startTime, DateTimeOffset.UtcNow, stdout.ToString(), stderr.ToString());
        Log?.Invoke($"exit [{process.Id}]: code {result.ExitCode} after {result.RunTime.TotalMilliseconds:F0} ms");
        if (Validation == CommandResultValidation.ZeroExitCode && result.ExitCode != 0)
        {
            throw new CommandExecutionException(this, result.ExitCode, result.StandardError);
        }

        return result;
    }

    /// <summary>
    /// Starts a long-running process (a daemon). Its standard input is closed at once; its output
    /// is drained, and the last lines of standard error are kept for error messages.
    /// </summary>
    public RunningProcess Start(int stderrTailLines = 20)
    {
        var process = CreateProcess(redirectInput: true);
        StartOrThrow(process);
        Log?.Invoke($"start [{process.Id}]: {this}");
        process.StandardInput.Close();
        return new RunningProcess(this, process, stderrTailLines);
    }

    /// <summary>The command line, quoted as a shell would need it (for logs and error messages only).</summary>
    public override string ToString() =>
        string.Join(' ', Arguments.Prepend(TargetFilePath).Select(ShellQuoting.Quote));

    private Process CreateProcess(bool redirectInput)
    {
        var (program, arguments) = TiedToParent ? ProcessLauncher.TiedToParent(TargetFilePath, Arguments) : (TargetFilePath, Arguments);
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in EnvironmentVariables)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return new Process { StartInfo = info };
    }

    private void StartOrThrow(Process process)
    {
        if (TiedToParent && !IsRunnable(TargetFilePath))
        {
            // setpriv would start and then fail to exec: report the missing tool as such.
            throw new CommandNotFoundException(TargetFilePath, new Win32Exception(2));
        }

        try
        {
            if (TiedToParent)
            {
                ProcessLauncher.Run(process.Start);
            }
            else
            {
                process.Start();
            }
        }
        catch (Win32Exception ex)
        {
            // ENOENT / EACCES from execve: the tool is missing or not executable.
            throw new CommandNotFoundException(TargetFilePath, ex);
        }
    }

    private static bool IsRunnable(string program)
    {
        if (program.Contains('/'))
        {
            return File.Exists(program);
        }

        var path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(folder => File.Exists(Path.Combine(folder, program)));
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder sink)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            sink.Append(buffer, 0, read);
        }
    }

    internal static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (Win32Exception)
        {
            // Exited between the check and the signal.
        }
    }
}
