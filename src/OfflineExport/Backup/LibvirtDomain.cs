using OfflineExport.Libvirt;

namespace OfflineExport.Backup;

/// <summary>
/// A shut-off libvirt domain as a backup run sees it: its persistent XML (kept in the backup folder), its
/// disks, and libvirt's latest checkpoint (the parent of the one this run registers).
/// </summary>
/// <param name="Name">The domain's name.</param>
/// <param name="Uuid">Its UUID: every call after the lookup names it so (see <see cref="Virsh.ResolveAsync"/>).</param>
/// <param name="Xml">Its persistent configuration, as libvirt gave it.</param>
/// <param name="Disks">Its disks, file-backed or skipped.</param>
/// <param name="CurrentCheckpoint">libvirt's latest checkpoint, or null when the domain has none.</param>
public sealed record LibvirtDomain(string Name, string Uuid, string Xml, IReadOnlyList<DomainDisk> Disks, string? CurrentCheckpoint)
{
    /// <summary>
    /// Reads <paramref name="name"/> through <paramref name="virsh"/>: its UUID, persistent XML, disks and
    /// latest checkpoint. Unless <paramref name="anyState"/>, a domain that runs (or is paused, or anything but
    /// shut off) is refused: its disks are in use.
    /// </summary>
    public static async Task<LibvirtDomain> ReadAsync(Virsh virsh, string name, bool anyState, CancellationToken cancellationToken)
    {
        var uuid = await virsh.ResolveAsync(name, cancellationToken).ConfigureAwait(false);
        if (!anyState)
        {
            await RequireShutOffAsync(virsh, name, uuid, cancellationToken).ConfigureAwait(false);
        }

        var xml = await virsh.InactiveXmlAsync(uuid, cancellationToken).ConfigureAwait(false);
        var disks = DomainXml.Parse(xml, name);
        var current = await virsh.LatestCheckpointAsync(uuid, cancellationToken).ConfigureAwait(false);
        return new LibvirtDomain(name, uuid, xml, disks, current);
    }

    /// <summary>Refuses a domain that is not shut off (exit 5, with its state).</summary>
    public static async Task RequireShutOffAsync(Virsh virsh, string name, string uuid, CancellationToken cancellationToken)
    {
        var state = await virsh.DomainStateAsync(uuid, cancellationToken).ConfigureAwait(false);
        if (state != "shut off")
        {
            throw new OfflineExportException(ErrorKind.ImageInUse, $"domain {name} is {state}; its disks are in use: shut it down first (virsh -c {virsh.Uri} shutdown {name}, or --shutdown)");
        }
    }

    /// <summary>
    /// Asks a running domain to shut down and waits for "shut off", up to <paramref name="timeout"/>. Returns true when it
    /// did shut it down (false: it was shut off already). <paramref name="requested"/> is called as soon as the request is
    /// sent: from then on the shutdown is this run's, even when the wait ends early (the guest may still power off).
    /// A domain that is not running (paused, suspended, already shutting down) or transient (it would be gone once shut
    /// down, and could not be started again) is refused before anything is asked of it (exit 5).
    /// </summary>
    public async Task<bool> ShutDownAsync(Virsh virsh, TimeSpan timeout, Action requested, CancellationToken cancellationToken)
    {
        var state = await virsh.DomainStateAsync(Uuid, cancellationToken).ConfigureAwait(false);
        if (state == "shut off")
        {
            return false;
        }

        if (state is not ("running" or "idle" or "blocked"))
        {
            throw new OfflineExportException(ErrorKind.ImageInUse,
                $"domain {Name} is {state}; --shutdown asks a running guest to power off: {(state == "paused" ? $"resume it (virsh -c {virsh.Uri} resume {Name}) or shut it down" : "shut it down")} yourself first");
        }

        if (!await virsh.IsPersistentAsync(Uuid, cancellationToken).ConfigureAwait(false))
        {
            throw new OfflineExportException(ErrorKind.ImageInUse,
                $"domain {Name} is transient (started with virsh create, no persistent configuration): shut down, it would be gone and could not be started again; define it first (virsh -c {virsh.Uri} dumpxml {Name} > {Name}.xml && virsh -c {virsh.Uri} define {Name}.xml), or shut it down yourself");
        }

        try
        {
            await virsh.ShutdownAsync(Uuid, cancellationToken).ConfigureAwait(false);
        }
        catch (OfflineExportException)
        {
            // Powered off while being asked ("domain is not running"): the shutdown this run asked for.
            if (await virsh.DomainStateAsync(Uuid, cancellationToken).ConfigureAwait(false) != "shut off")
            {
                throw;
            }
        }

        requested();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            state = await virsh.DomainStateAsync(Uuid, cancellationToken).ConfigureAwait(false);
            if (state == "shut off")
            {
                return true;
            }

            if (clock.Elapsed >= timeout)
            {
                throw new OfflineExportException(ErrorKind.ImageInUse,
                    $"domain {Name} did not shut down within {timeout.TotalSeconds:0} s (it is {state}); nothing was backed up: does its guest act on the ACPI power button? --shutdown-timeout waits longer (the request stays: the guest may still power off)");
            }
        }
    }

    /// <summary>
    /// The file a run's copy of the domain XML is kept in, inside the backup folder: named by the run's time,
    /// which every point of the run records as its end time (raw disks', which start no checkpoint, too).
    /// </summary>
    public static string XmlFileName(DateTimeOffset runTime) =>
        $"domain.{runTime.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)}.xml";
}
