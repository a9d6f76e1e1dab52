using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Processes;

namespace OfflineExport.IntegrationTests.Processes;

/// <summary>What Processes/ adds to CliWrap, on real (tiny) processes: stall kill, missing programs, exit codes, tying, cleanup.</summary>
public sealed class ChildProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_run_without_activity_is_killed_as_stalled()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<CommandStalledException>(() =>
            ChildProcess.RunBufferedAsync(CliWrap.Cli.Wrap("sleep").WithArguments(["30"]), new ProcessSettings(ProgressTimeout: TimeSpan.FromSeconds(1)), cts.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.StartsWith("sleep made no progress for 1 s and was stopped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_busy_run_is_not_taken_for_a_stalled_one()
    {
        using var cts = new CancellationTokenSource(Timeout);

        // One byte per system call, for longer than the progress timeout: activity all along.
        var clock = Stopwatch.StartNew();
        var result = await ChildProcess.RunBufferedAsync(
            CliWrap.Cli.Wrap("dd").WithArguments(["if=/dev/zero", "of=/dev/null", "bs=1", "count=6000000"]),
            new ProcessSettings(ProgressTimeout: TimeSpan.FromMilliseconds(500)),
            cts.Token);

        Assert.Equal(0, result.ExitCode);
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1), $"dd ran only {clock.Elapsed}: too short to prove anything");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_missing_program_is_reported_as_such_tied_or_not(bool tied)
    {
        using var cts = new CancellationTokenSource(Timeout);

        var error = await Assert.ThrowsAsync<CommandNotFoundException>(() =>
            ChildProcess.RunBufferedAsync(CliWrap.Cli.Wrap("/nonexistent/qemu-img"), new ProcessSettings(TiedToParent: tied), cts.Token));

        Assert.Equal("/nonexistent/qemu-img", error.TargetFilePath);
        Assert.Contains("No such file or directory", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_run_kills_and_reaps_it()
    {
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Log(string line)
        {
            // "run [PID]: …"
            if (line.StartsWith("run [", StringComparison.Ordinal))
            {
                started.TrySetResult(int.Parse(line[5..line.IndexOf(']', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        var run = ChildProcess.RunBufferedAsync(CliWrap.Cli.Wrap("sleep").WithArguments(["30"]), new ProcessSettings(Log, TiedToParent: true), cts.Token);
        var pid = await started.Task.WaitAsync(Timeout);
        Assert.NotNull(ProcessIdentity.Of(pid));

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
        Assert.Null(ProcessIdentity.Of(pid));
    }

    [Fact]
    public async Task A_tied_child_runs_in_place_under_us_and_not_at_all_when_its_parent_is_no_longer_us()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var folder = Directory.CreateTempSubdirectory("tied-").FullName;
        try
        {
            var marker = Path.Combine(folder, "ran");
            var tied = ProcessLauncher.TiedToParent(CliWrap.Cli.Wrap("sh").WithArguments(["-c", "echo $$ $PPID > \"$0\"", marker]));

            // Under us: the program runs with our pid as its parent's, and with the pid CliWrap knows (exec in place).
            var run = tied.WithValidation(CommandResultValidation.None).ExecuteAsync(cts.Token);
            var pid = run.ProcessId;
            var result = await run;
            var ids = (await File.ReadAllTextAsync(marker, cts.Token)).Split(' ', StringSplitOptions.TrimEntries);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal([pid.ToString(System.Globalization.CultureInfo.InvariantCulture), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)], ids);

            // Started by another parent (as a child is once its parent died before setpriv set the signal and it
            // was adopted): the guard ends it before the program runs.
            File.Delete(marker);
            var adopted = await CliWrap.Cli.Wrap("sh").WithArguments(["-c", "\"$@\"; echo $?", "sh", tied.TargetFilePath, .. SplitArguments(tied.Arguments)])
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cts.Token);
            Assert.Equal("137", adopted.StandardOutput.Trim());
            Assert.False(File.Exists(marker));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Undoes CliWrap's quoting of an argument list (double quotes with backslash escapes).</summary>
    private static string[] SplitArguments(string line)
    {
        var arguments = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        var any = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length && (line[i + 1] == '"' || line[i + 1] == '\\'))
            {
                current.Append(line[++i]);
            }
            else if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (current.Length > 0 || any)
                {
                    arguments.Add(current.ToString());
                }

                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0 || any)
        {
            arguments.Add(current.ToString());
        }

        return [.. arguments];
    }

    [Fact]
    public async Task A_daemon_killed_by_someone_else_exits_137_and_one_we_kill_minus_one()
    {
        await using var killed = ChildProcess.Start(CliWrap.Cli.Wrap("sleep").WithArguments(["30"]), new ProcessSettings());
        await using var ours = ChildProcess.Start(CliWrap.Cli.Wrap("sh").WithArguments(["-c", "echo starting >&2; exec sleep 30"]), new ProcessSettings());
        await Task.Delay(300);

        Signals.Send(killed.Id, Signals.SIGKILL);
        ours.Kill();

        Assert.True(await killed.WaitForExitAsync(Timeout));
        Assert.True(await ours.WaitForExitAsync(Timeout));
        Assert.Equal(137, await killed.Exited);
        Assert.Equal(-1, await ours.Exited);
        Assert.Equal("starting", ours.OutputTail);
    }

    [Fact]
    public async Task Disposing_a_running_daemon_kills_and_reaps_it()
    {
        var daemon = ChildProcess.Start(CliWrap.Cli.Wrap("sleep").WithArguments(["30"]), new ProcessSettings(TiedToParent: true));
        var pid = daemon.Id;

        await daemon.DisposeAsync();

        Assert.True(daemon.HasExited);
        Assert.Null(ProcessIdentity.Of(pid));
    }
}
