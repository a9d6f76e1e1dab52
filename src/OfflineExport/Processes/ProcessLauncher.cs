using System.Collections.Concurrent;
using CliWrap;
using CliWrap.Builders;

namespace OfflineExport.Processes;

/// <summary>
/// Starts child processes that must not outlive this one. Each is started through
/// <c>setpriv --pdeathsig KILL</c>, so the kernel kills it when its parent goes, even when this
/// process is killed with SIGKILL and runs no clean-up. The kernel sends that signal when the
/// <em>thread</em> that forked the child ends, so every such start happens on one dedicated thread
/// that lives as long as the process (a thread-pool thread retires when idle and would take the
/// daemon with it in the middle of an export).
/// </summary>
public static class ProcessLauncher
{
    private const string SetprivPath = "/usr/bin/setpriv";
    private const string SetsidPath = "/usr/bin/setsid";
    private static readonly BlockingCollection<Action> Work = [];
    private static readonly Lazy<bool> Started = new(StartThread);

    /// <summary>True when setpriv (util-linux, on every Debian) is there to set the parent-death signal.</summary>
    public static bool CanTieToParent => File.Exists(SetprivPath);

    /// <summary>
    /// <paramref name="command"/> run through <c>setpriv --pdeathsig KILL</c>, then a shell that execs the
    /// program in place (the process id is the program's own) only if its parent is still this process.
    /// The parent-death signal covers a death after setpriv set it; the shell's check covers one between the
    /// fork and that moment, when the child would otherwise run on as an orphan (seen in a test: a
    /// <c>qemu-img convert</c> of a SIGKILLed forget wrote its temporary file after the next run had
    /// cleaned up). The program and its arguments reach it as arguments, never as shell text.
    /// </summary>
    public static Command TiedToParent(Command command)
    {
        var guard = $"[ \"$PPID\" = {Environment.ProcessId} ] || exit 137; exec \"$0\" \"$@\"";
        var prefix = new ArgumentsBuilder().Add(["--pdeathsig", "KILL", "--", "/bin/sh", "-c", guard, command.TargetFilePath]).Build();
        return command.WithTargetFile(SetprivPath).WithArguments(command.Arguments.Length == 0 ? prefix : prefix + " " + command.Arguments);
    }

    /// <summary>True when setsid (util-linux, on every Debian) is there to start a child in a session of its own.</summary>
    public static bool CanStartInOwnSession => File.Exists(SetsidPath);

    /// <summary>
    /// <paramref name="command"/> run through <c>setsid --wait</c>: a new session without a controlling terminal, so
    /// the signals a terminal sends its foreground process group (Ctrl-C, Ctrl-\, hang-up) do not reach it. The
    /// child is never a process group leader, so setsid execs the program in place (its process id is the program's).
    /// </summary>
    public static Command InOwnSession(Command command)
    {
        var prefix = new ArgumentsBuilder().Add(["--wait", "--", command.TargetFilePath]).Build();
        return command.WithTargetFile(SetsidPath).WithArguments(command.Arguments.Length == 0 ? prefix : prefix + " " + command.Arguments);
    }

    /// <summary>Runs <paramref name="start"/> (which forks a child) on the long-lived launcher thread and returns its result.</summary>
    public static T Run<T>(Func<T> start)
    {
        _ = Started.Value;
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Work.Add(() =>
        {
            try
            {
                done.SetResult(start());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    private static bool StartThread()
    {
        var thread = new Thread(() =>
        {
            foreach (var action in Work.GetConsumingEnumerable())
            {
                action();
            }
        })
        {
            IsBackground = true,
            Name = "offline-export process launcher",
        };
        thread.Start();
        return true;
    }
}
