namespace OfflineExport.Processes;

/// <summary>How <see cref="ChildProcess"/> runs a CliWrap command: what CliWrap itself has no setting for.</summary>
/// <param name="Log">Receives one line per started and finished process (for <c>--verbose</c>), or null.</param>
/// <param name="ProgressTimeout">
/// How long a buffered run may show no activity (I/O or CPU, see <see cref="ProcessActivity"/>) before it is
/// killed with <see cref="CommandStalledException"/>; null: no limit.
/// </param>
/// <param name="TiedToParent">True when the kernel kills the child as soon as this process dies (see <see cref="ProcessLauncher"/>).</param>
/// <param name="OwnSession">True to start the child in a session of its own, where no terminal's Ctrl-C or hang-up reaches it (<see cref="ProcessLauncher.InOwnSession"/>).</param>
public sealed record ProcessSettings(Action<string>? Log = null, TimeSpan? ProgressTimeout = null, bool TiedToParent = false, bool OwnSession = false);
