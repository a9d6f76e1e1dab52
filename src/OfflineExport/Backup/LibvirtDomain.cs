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
    /// Asks a domain that is not shut off to shut down and waits for "shut off", up to <paramref name="timeout"/>.
    /// Returns true when it did shut it down (false: it was shut off already).
    /// </summary>
    public async Task<bool> ShutDownAsync(Virsh virsh, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var state = await virsh.DomainStateAsync(Uuid, cancellationToken).ConfigureAwait(false);
        if (state == "shut off")
        {
            return false;
        }

        await virsh.ShutdownAsync(Uuid, cancellationToken).ConfigureAwait(false);
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
                    $"domain {Name} did not shut down within {timeout.TotalSeconds:0} s (it is {state}); nothing was backed up: does its guest act on the ACPI power button? --shutdown-timeout waits longer");
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
