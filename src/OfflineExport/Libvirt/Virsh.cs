using System.Globalization;
using System.Xml.Linq;
using CliWrap;
using CliWrap.Buffered;
using OfflineExport.Processes;

namespace OfflineExport.Libvirt;

/// <summary>
/// The libvirt calls a backup of a domain needs, through <c>virsh</c> (Debian's libvirt-clients). No libvirt
/// binding for .NET is in our package source, and virsh's XML in and out is libvirt's own stable interface;
/// each call is one short process, run with CliWrap, under the progress timeout.
/// </summary>
public sealed class Virsh
{
    /// <summary>The Debian package that provides virsh.</summary>
    public const string Package = "libvirt-clients";

    /// <summary>
    /// How long one virsh call may take. virsh keeps its connection alive with keepalives, so a stall watch
    /// would see a waiting virsh as busy; a fixed deadline is what bounds it (a domain start included).
    /// </summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromMinutes(2);

    private readonly string _executable;
    private readonly string _uri;
    private readonly ProcessSettings _settings;

    /// <summary>Creates the wrapper for libvirt at <paramref name="uri"/> (e.g. qemu:///system).</summary>
    /// <param name="uri">The connection URI.</param>
    /// <param name="executable">The virsh program.</param>
    /// <param name="log">Receives a line per run, or null.</param>
    /// <param name="toTheEnd">
    /// For the calls a run makes after Ctrl-C or once its points are recorded (registering the checkpoint, starting the
    /// domain again): each in a session of its own, where a terminal's Ctrl-C does not reach it (virsh dies of SIGINT),
    /// and not tied to this process; the call deadline still bounds it.
    /// </param>
    public Virsh(string uri, string executable = "virsh", Action<string>? log = null, bool toTheEnd = false)
    {
        _uri = uri;
        _executable = executable;
        _settings = toTheEnd ? new ProcessSettings(log, null, TiedToParent: false, OwnSession: true) : new ProcessSettings(log, null, TiedToParent: true);
    }

    /// <summary>The same connection, its calls run to their end (see the constructor's <c>toTheEnd</c>).</summary>
    public Virsh ToTheEnd() => new(_uri, _executable, _settings.Log, toTheEnd: true);

    /// <summary>The libvirt connection URI.</summary>
    public string Uri => _uri;

    /// <summary>The domain's state as virsh words it: "shut off", "running", "paused", …</summary>
    public async Task<string> DomainStateAsync(string domain, CancellationToken cancellationToken) =>
        (await RunAsync(["domstate", "--", domain], domain, cancellationToken).ConfigureAwait(false)).Trim();

    /// <summary>
    /// The domain's UUID, found by its exact name. Every later call names the domain by UUID: virsh looks a
    /// name up as an id first, then as a UUID, so a domain named "1" could otherwise be another, running one.
    /// </summary>
    public async Task<string> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        var text = await RunAsync(["list", "--all", "--uuid", "--name"], name, cancellationToken).ConfigureAwait(false);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && string.Equals(line[(space + 1)..].Trim(), name, StringComparison.Ordinal))
            {
                return line[..space];
            }
        }

        throw new OfflineExportException(ErrorKind.InvalidImage, $"libvirt at {_uri} has no domain '{name}'");
    }

    /// <summary>True when the domain has a persistent configuration; a transient one (<c>virsh create</c>) is gone once it shuts down.</summary>
    public async Task<bool> IsPersistentAsync(string domain, CancellationToken cancellationToken)
    {
        var info = await RunAsync(["dominfo", "--", domain], domain, cancellationToken).ConfigureAwait(false);
        var line = info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Persistent:", StringComparison.Ordinal));
        return line is not null && line["Persistent:".Length..].Trim() == "yes";
    }

    /// <summary>Asks the guest to shut down (ACPI power button, <c>virsh shutdown</c>); returns at once.</summary>
    public async Task ShutdownAsync(string domain, CancellationToken cancellationToken) =>
        await RunAsync(["shutdown", "--", domain], domain, cancellationToken).ConfigureAwait(false);

    /// <summary>Starts the domain (<c>virsh start</c>).</summary>
    public async Task StartAsync(string domain, CancellationToken cancellationToken) =>
        await RunAsync(["start", "--", domain], domain, cancellationToken).ConfigureAwait(false);

    /// <summary>The domain's persistent configuration (<c>dumpxml --inactive</c>): what it boots with, and what is on disk when it is shut off.</summary>
    public Task<string> InactiveXmlAsync(string domain, CancellationToken cancellationToken) =>
        RunAsync(["dumpxml", "--inactive", "--", domain], domain, cancellationToken);

    /// <summary>The names of the domain's checkpoints (libvirt's metadata).</summary>
    public async Task<IReadOnlyList<string>> CheckpointNamesAsync(string domain, CancellationToken cancellationToken)
    {
        var text = await RunAsync(["checkpoint-list", "--name", "--", domain], domain, cancellationToken).ConfigureAwait(false);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>
    /// The checkpoint a new one descends from: the newest leaf of the domain's checkpoint tree (what libvirt
    /// itself takes as the parent of the next checkpoint), or null when the domain has none.
    /// </summary>
    public async Task<string?> LatestCheckpointAsync(string domain, CancellationToken cancellationToken)
    {
        var text = await RunAsync(["checkpoint-list", "--leaves", "--name", "--", domain], domain, cancellationToken).ConfigureAwait(false);
        var leaves = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (leaves.Length <= 1)
        {
            return leaves.FirstOrDefault();
        }

        var newest = (Name: (string?)null, Time: long.MinValue);
        foreach (var leaf in leaves)
        {
            var xml = XDocument.Parse(await RunAsync(["checkpoint-dumpxml", "--no-domain", "--", domain, leaf], domain, cancellationToken).ConfigureAwait(false));
            var time = long.TryParse(xml.Root?.Element("creationTime")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : long.MinValue;
            if (time >= newest.Time)
            {
                newest = (leaf, time);
            }
        }

        return newest.Name;
    }

    /// <summary>
    /// Records a checkpoint this tool made offline in libvirt's metadata (<c>checkpoint-create --redefine</c>):
    /// its name, its parent (libvirt's latest checkpoint, or none), its time and each disk's bitmap, so
    /// libvirt's next live incremental can start from it. libvirt does not check the bitmaps of a shut-off
    /// domain here: they are this run's, added before.
    /// </summary>
    public async Task RedefineCheckpointAsync(string domain, string name, string? parent, DateTimeOffset created, IReadOnlyList<(string Disk, string Bitmap)> disks, CancellationToken cancellationToken)
    {
        var xml = new XElement("domaincheckpoint",
            new XElement("name", name),
            parent is null ? null : new XElement("parent", new XElement("name", parent)),
            new XElement("creationTime", created.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new XElement("disks", disks.Select(d => new XElement("disk", new XAttribute("name", d.Disk), new XAttribute("checkpoint", "bitmap"), new XAttribute("bitmap", d.Bitmap)))));
        // virsh reads the XML from a file; /dev/stdin is one, fed by CliWrap.
        var command = Cli.Wrap(_executable)
            .WithArguments(["-c", _uri, "checkpoint-create", "--redefine", "--", domain, "/dev/stdin"])
            .WithStandardInputPipe(PipeSource.FromString(xml.ToString()));
        var result = await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw Failed(result, domain);
        }
    }

    /// <summary>Removes a checkpoint from libvirt's metadata only (<c>checkpoint-delete --metadata</c>); the bitmaps are this tool's to remove.</summary>
    public async Task DeleteCheckpointMetadataAsync(string domain, string name, CancellationToken cancellationToken) =>
        await RunAsync(["checkpoint-delete", "--metadata", "--", domain, name], domain, cancellationToken).ConfigureAwait(false);

    private async Task<string> RunAsync(IReadOnlyList<string> args, string domain, CancellationToken cancellationToken)
    {
        var result = await RunUncheckedAsync(args, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 ? result.StandardOutput : throw Failed(result, domain);
    }

    private Task<BufferedCommandResult> RunUncheckedAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        ExecuteAsync(Cli.Wrap(_executable).WithArguments(["-c", _uri, .. args]), cancellationToken);

    private async Task<BufferedCommandResult> ExecuteAsync(Command command, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CallDeadline);
        try
        {
            // Its messages and states ("shut off") in English whatever the host's locale: we read them.
            return await ChildProcess.RunBufferedAsync(command.WithEnvironmentVariables(e => e.Set("LC_ALL", "C")), _settings, deadline.Token).ConfigureAwait(false);
        }
        catch (CommandNotFoundException ex)
        {
            throw OfflineExportException.ToolMissing(_executable, Package, "cannot be run: " + ex.Reason);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OfflineExportException(ErrorKind.QemuFailure, $"virsh did not answer within {CallDeadline.TotalSeconds:0} s ({command.Arguments}); is libvirtd at {_uri} stuck?");
        }
    }

    /// <summary>virsh's own words, as the kind of failure they describe.</summary>
    private OfflineExportException Failed(BufferedCommandResult result, string domain)
    {
        var text = TextTail.LastLines(result.StandardError, 2).Replace("error: ", string.Empty, StringComparison.Ordinal);
        if (text.Contains("failed to get domain", StringComparison.Ordinal) || text.Contains("Domain not found", StringComparison.Ordinal))
        {
            return new OfflineExportException(ErrorKind.InvalidImage, $"libvirt at {_uri} has no domain '{domain}' ({text}); was it undefined during the backup?");
        }

        if (text.Contains("failed to connect to the hypervisor", StringComparison.Ordinal))
        {
            return new OfflineExportException(ErrorKind.ToolMissing, $"cannot reach libvirt at {_uri} (is libvirtd running? --connect URI chooses another): {text}");
        }

        return new OfflineExportException(ErrorKind.QemuFailure, $"virsh failed (exit code {result.ExitCode}) for domain '{domain}': {text}");
    }
}
