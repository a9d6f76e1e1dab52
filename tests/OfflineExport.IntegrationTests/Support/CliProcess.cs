using System.Diagnostics;
using System.Text;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>Runs the real offline-export program (built next to the tests) as a child process.</summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _firstProgress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            Append(_stderr, e.Data);
            // The plain progress log starts with "copying N": the copy has begun.
            if (e.Data?.Contains("copying ", StringComparison.Ordinal) == true || e.Data?.Contains('%') == true)
            {
                _firstProgress.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>
    /// The program under test: the native bin/offline-export when scripts/test.sh built it (it sets
    /// <see cref="ProgramVariable"/>), else the JIT-compiled build next to the test assembly.
    /// </summary>
    public static string Program => NativeProgram ?? Path.Combine(AppContext.BaseDirectory, "offline-export");

    /// <summary>The variable naming the native program; not OFFLINE_EXPORT_*, which the program reads as settings.</summary>
    public const string ProgramVariable = "TEST_OFFLINE_EXPORT_PROGRAM";

    /// <summary>The native program the tests run, or null when they run the JIT-compiled build.</summary>
    public static string? NativeProgram => Environment.GetEnvironmentVariable(ProgramVariable) is { Length: > 0 } path ? Path.GetFullPath(path) : null;

    /// <summary>The process id (also the process group id when started in its own session).</summary>
    public int Id => _process.Id;

    /// <summary>True once the program has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Completes when the first progress line ("copying …") appears on stderr.</summary>
    public Task FirstProgress => _firstProgress.Task;

    /// <summary>Everything written to stdout so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Everything written to stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts the program. <paramref name="ownSession"/> runs it under setsid, so a signal can go to its whole process group as a terminal's Ctrl-C would.</summary>
    public static CliProcess Start(TestWorkspace workspace, IEnumerable<string> args, bool ownSession = false, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(ownSession ? "setsid" : Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workspace.Root,
        };
        if (ownSession)
        {
            info.ArgumentList.Add(Program);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The private socket folder goes inside the workspace, so leftovers are found and removed.
        info.Environment["TMPDIR"] = workspace.WorkDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return new CliProcess(Process.Start(info)!);
    }

    /// <summary>Runs the program to completion (at most 3 minutes).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TestWorkspace workspace, params string[] args)
    {
        await using var cli = Start(workspace, args);
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(3));
        return (code, cli.StandardOutput, cli.StandardError);
    }

    /// <summary>Waits for the exit and returns the exit code; kills the process and throws after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"offline-export did not exit within {timeout}; stderr: {StandardError}");
        }

        _process.WaitForExit(); // flushes the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>Kills the program if it still runs.</summary>
    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Append(StringBuilder sink, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (sink)
        {
            sink.AppendLine(line);
        }
    }
}
