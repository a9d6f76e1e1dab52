using CliWrap;
using OfflineExport.Processes;
using OfflineExport.Qmp;

namespace OfflineExport.Qemu;

/// <summary>
/// A qemu-storage-daemon child with a QMP monitor on a unix socket in a private folder. Disposing
/// it always leaves no daemon behind: a polite <c>quit</c> when possible, SIGKILL otherwise.
/// </summary>
public sealed class StorageDaemon : IAsyncDisposable
{
    /// <summary>How long a daemon that dropped its monitor before greeting may take to exit, so its exit code can be told.</summary>
    private static readonly TimeSpan DeathGrace = TimeSpan.FromSeconds(5);

    private readonly RunningProcess _process;
    private readonly string _pidFile;
    private volatile bool _stopping;

    private StorageDaemon(RunningProcess process, QmpClient qmp, string nbdSocket, string pidFile)
    {
        _process = process;
        Qmp = qmp;
        NbdSocket = nbdSocket;
        _pidFile = pidFile;
    }

    /// <summary>The QMP connection to the daemon.</summary>
    public QmpClient Qmp { get; }

    /// <summary>Where the daemon's NBD server listens once started (a unix socket next to the monitor's).</summary>
    public string NbdSocket { get; }

    /// <summary>
    /// True when the daemon holds <paramref name="file"/> open (any descriptor whose file has its device and
    /// inode): the daemon opens nodes by name, and this says which file a name led it to.
    /// </summary>
    /// <exception cref="IOException">The daemon's descriptors cannot be read (no /proc, or not ours to look at).</exception>
    public bool HoldsOpen(IO.FileIdentity file)
    {
        // The pid the daemon wrote itself: ours may be a wrapper's that did not exec it.
        var pid = int.TryParse(File.ReadAllText(_pidFile).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var written)
            ? written
            : _process.Id;
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
                .Any(descriptor => IO.FileIdentity.Of(descriptor) is { } open && open.IsSameFileAs(file));
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new IOException($"cannot read the open files of qemu-storage-daemon [{pid}]: {ex.Message}", ex);
        }
    }

    /// <summary>True when the daemon exited without being asked to.</summary>
    public bool DiedUnexpectedly => _process.HasExited && !_stopping;

    /// <summary>The glibc variable that sets malloc's thresholds.</summary>
    public const string MallocTunablesVariable = "GLIBC_TUNABLES";

    /// <summary>
    /// Keeps the buffers of NBD requests in the daemon's heap. By default glibc maps a large buffer afresh and
    /// gives freed memory back to the kernel, so every request's buffer is faulted in again: on this project's
    /// machine a full export then spent most of its time in page faults (1 MiB requests 2.2 times slower than
    /// 512 KiB). A fixed mmap threshold of 32 MiB and a trim threshold of 1 GiB (both are needed) measured
    /// 0.82–0.94 of the default's time (docs/PERFORMANCE.md, session 27). The daemon lives for one command.
    /// </summary>
    public const string MallocTunables = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824";

    /// <summary>
    /// <see cref="MallocTunables"/> followed by an operator's own <paramref name="existing"/> value: glibc takes the
    /// entries in order, so theirs still win where they name the same tunable, and a value set for another reason
    /// (<c>glibc.pthread.rseq=0</c> in a container) does not cost the daemon its buffers.
    /// </summary>
    public static string MallocTunablesWith(string? existing) =>
        string.IsNullOrEmpty(existing) ? MallocTunables : $"{MallocTunables}:{existing}";

    /// <summary>
    /// Starts the daemon and connects to its monitor. The socket lives in <paramref name="runtimeDirectory"/>
    /// (a private 0700 folder); the start fails with the daemon's own words if it exits first.
    /// </summary>
    /// <param name="executable">The qemu-storage-daemon program.</param>
    /// <param name="runtimeDirectory">The private folder for its sockets.</param>
    /// <param name="startTimeout">How long it may take to open its monitor.</param>
    /// <param name="replyTimeout">How long any QMP command may wait for its reply.</param>
    /// <param name="log">Receives QMP traffic and the daemon's output, or null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<StorageDaemon> StartAsync(string executable, string runtimeDirectory, TimeSpan startTimeout, TimeSpan replyTimeout, Action<string>? log, CancellationToken cancellationToken)
    {
        var qmpSocket = Path.Combine(runtimeDirectory, "qmp.sock");
        var pidFile = Path.Combine(runtimeDirectory, "daemon.pid");
        // qemu option values escape a comma by doubling it.
        var chardev = $"socket,id=qmp0,path={qmpSocket.Replace(",", ",,", StringComparison.Ordinal)},server=on,wait=on";
        var command = Cli.Wrap(executable).WithArguments(["--chardev", chardev, "--monitor", "chardev=qmp0", "--pidfile", pidFile]);
        var tunables = MallocTunablesWith(Environment.GetEnvironmentVariable(MallocTunablesVariable));
        command = command.WithEnvironmentVariables(variables => variables.Set(MallocTunablesVariable, tunables));

        RunningProcess process;
        try
        {
            // Tied: a killed offline-export must not leave a daemon serving a writable export.
            process = ChildProcess.Start(command, new ProcessSettings(log, TiedToParent: true));
        }
        catch (CommandNotFoundException ex)
        {
            throw OfflineExportException.ToolMissing(executable, QemuTools.StorageDaemonPackage, "cannot be run: " + ex.Reason);
        }

        try
        {
            var qmp = await ConnectWhenReadyAsync(process, qmpSocket, startTimeout, replyTimeout, log, cancellationToken).ConfigureAwait(false);
            return new StorageDaemon(process, qmp, Path.Combine(runtimeDirectory, "nbd.sock"), pidFile);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The exception that describes the daemon's unexpected death.</summary>
    public OfflineExportException DescribeDeath(Exception? cause = null) =>
        DaemonDeath.Error(_process.Exited.IsCompletedSuccessfully ? _process.Exited.Result : -1, _process.OutputTailWithout(IsWaitingNotice), cause);

    /// <summary>
    /// Waits up to <paramref name="grace"/> for the daemon to finish dying; true when it is dead and
    /// nobody asked it to stop. A broken socket usually means the daemon died a moment earlier.
    /// </summary>
    public async Task<bool> HasDiedAsync(TimeSpan grace)
    {
        if (_stopping)
        {
            return false;
        }

        await _process.WaitForExitAsync(grace).ConfigureAwait(false);
        return DiedUnexpectedly;
    }

    /// <summary>Asks the daemon to quit (it closes and flushes every node) and waits for it to exit.</summary>
    /// <returns>The daemon's exit code.</returns>
    public async Task<int> StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        _stopping = true;
        if (!_process.HasExited)
        {
            try
            {
                await Qmp.ExecuteAsync("quit", null, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpProtocolException)
            {
                // The monitor may close before the reply is read: the exit code below tells.
            }
        }

        if (!await _process.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            _process.Kill();
            cancellationToken.ThrowIfCancellationRequested();
            throw new OfflineExportException(ErrorKind.QemuFailure, $"qemu-storage-daemon did not exit within {timeout.TotalSeconds:F0} s of quit; killed it");
        }

        return await _process.Exited.ConfigureAwait(false);
    }

    /// <summary>Kills the daemon if it still runs, and closes the monitor.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        await Qmp.DisposeAsync().ConfigureAwait(false);
        await _process.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Connects to the monitor while the daemon waits for us. With <c>wait=on</c> qemu-storage-daemon accepts this
    /// one connection in its main thread while it creates the chardev, before the monitor exists; the monitor
    /// then attaches to a connection already made, and nothing else ever reads from it. With <c>wait=off</c> the
    /// main loop accepts the connection, which can happen while the monitor's I/O thread attaches its handlers:
    /// qemu then greets twice and can leave two threads reading the socket, which garbled a command into a JSON
    /// parse error ("stray '\"block-expo'", a fresh-clone CI run in session 29). Waiting for the pid file only made
    /// that rarer. The daemon cannot go on starting until this connects, so the socket file is polled finely.
    /// </summary>
    private static async Task<QmpClient> ConnectWhenReadyAsync(RunningProcess process, string qmpSocket, TimeSpan startTimeout, TimeSpan replyTimeout, Action<string>? log, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(startTimeout);
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            if (process.HasExited)
            {
                throw await ExitedAtStartAsync(process).ConfigureAwait(false);
            }

            if (File.Exists(qmpSocket))
            {
                try
                {
                    return await QmpClient.ConnectAsync(qmpSocket, log, timeout.Token, replyTimeout).ConfigureAwait(false);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // Bound but not listening yet.
                }
                catch (Exception ex) when (ex is QmpProtocolException or IOException)
                {
                    // Closed or reset before the greeting: the daemon is stopping or died, and its own words say why.
                    // Waited for within the start timeout, and Ctrl-C still stops the wait.
                    var exited = await process.WaitForExitAsync(DeathGrace, timeout.Token).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    if (exited)
                    {
                        throw await ExitedAtStartAsync(process).ConfigureAwait(false);
                    }

                    throw new OfflineExportException(ErrorKind.QemuFailure, DaemonDeath.WithTail($"qemu-storage-daemon closed its monitor before greeting ({ex.Message})", process.OutputTail), ex);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new OfflineExportException(ErrorKind.QemuFailure, DaemonDeath.WithTail($"qemu-storage-daemon did not greet on its monitor within {startTimeout.TotalSeconds:F0} s", process.OutputTail));
                }
            }

            try
            {
                await Task.Delay(delay, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new OfflineExportException(ErrorKind.QemuFailure, DaemonDeath.WithTail($"qemu-storage-daemon did not open its monitor within {startTimeout.TotalSeconds:F0} s", process.OutputTail));
            }

            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 16));
        }
    }

    /// <summary>
    /// qemu's note that it waits for the monitor's connection (<c>wait=on</c>): left out where the daemon's own words
    /// tell why it died, kept where it did not start in time (the note then says where it waited).
    /// </summary>
    private static bool IsWaitingNotice(string line) => line.Contains("QEMU waiting for connection on:", StringComparison.Ordinal);

    private static async Task<OfflineExportException> ExitedAtStartAsync(RunningProcess process)
    {
        var code = await process.Exited.ConfigureAwait(false);
        return new OfflineExportException(ErrorKind.QemuFailure, DaemonDeath.WithTail($"qemu-storage-daemon exited at start with code {code}", process.OutputTailWithout(IsWaitingNotice)));
    }
}
