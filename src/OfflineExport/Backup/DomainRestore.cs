using System.Xml;
using System.Xml.Linq;
using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// Restore-and-boot: every disk of one <c>backup --domain</c> run restored as a standalone qcow2 (each
/// verified as <see cref="RestoreSession"/> does), plus the domain XML kept with that run, its disks'
/// sources pointing at the restored files (driver type qcow2, no backing store). <c>virsh define</c> of
/// it boots the VM as it was.
/// </summary>
public sealed class DomainRestore
{
    private readonly ExportOptions _options;

    /// <summary>Creates the restore with the given tools.</summary>
    public DomainRestore(ExportOptions options) => _options = options;

    /// <summary>Restores the run.</summary>
    public Task<DomainRestoreResult> RunAsync(DomainRestoreRequest request, CancellationToken cancellationToken) =>
        RunAsync(request, null, cancellationToken);

    /// <summary>Restores every disk of the run, reporting each disk's copy and comparison to <paramref name="progress"/>.</summary>
    public Task<DomainRestoreResult> RunAsync(DomainRestoreRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => RestoreAsync(request, progress, cancellationToken));

    private async Task<DomainRestoreResult> RestoreAsync(DomainRestoreRequest request, IProgress<DiskProgress>? progress, CancellationToken cancellationToken)
    {
        var folder = FolderPath.Full(request.Folder);
        var output = Path.GetFullPath(request.OutputFolder);
        ManifestStore.LoadExisting(folder);
        ForgetJournal.TryFinishPending(folder, folderLockHeld: false);
        // One shared hold for the whole run: no forget between two disks of it.
        using var reading = PointFilesLock.Shared(folder);
        var manifest = ManifestStore.LoadExisting(folder);
        if (FileIdentity.Of(output) is { } existing && FileIdentity.Of(folder) is { } own && existing.IsSameFileAs(own))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"{output} is the backup folder itself; restore the domain into another folder");
        }

        var (runTime, points) = SelectRun(manifest, request.Point, request.PointOf, folder);
        var xmlPath = Path.Combine(folder, LibvirtDomain.XmlFileName(runTime));
        var checkpoint = points.Select(p => p.Point.CheckpointCreated).FirstOrDefault(c => c is not null) ?? "none";
        XDocument domain;
        try
        {
            domain = XDocument.Load(xmlPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or XmlException)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"the run of {runTime:u} has no readable domain XML ({xmlPath}): {IoErrorText.Reason(ex).TrimEnd('.')}; was it made with backup --domain?", ex);
        }

        // Before anything is written: an XML that still named a disk of the live domain would boot it.
        RequireEveryDiskRestored(domain, points.Select(p => p.Disk).ToHashSet(StringComparer.Ordinal), xmlPath);

        try
        {
            Directory.CreateDirectory(output);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot create {output}: {IoErrorText.Reason(ex)}", ex);
        }

        var xmlOutput = Path.Combine(output, "domain.xml");
        // Every output checked before the first is written: no half-restored domain because its last disk was in the way.
        OutputFile.CheckCanCreate(xmlOutput, request.Force);
        foreach (var (disk, _) in points)
        {
            OutputFile.CheckCanCreate(Path.Combine(output, disk + ".qcow2"), request.Force);
        }

        var restored = new List<RestoreResult>();
        for (var i = 0; i < points.Count; i++)
        {
            var (disk, point) = points[i];
            var image = Path.Combine(output, disk + ".qcow2");
            restored.Add(await new RestoreSession(_options).RunAsync(
                new RestoreRequest { Folder = folder, Output = image, Disk = disk, Point = point.Number, Force = request.Force },
                progress is null ? null : new DiskProgressAdapter(progress, disk, i, points.Count),
                cancellationToken).ConfigureAwait(false));
        }

        PointAt(domain, restored, xmlPath);
        using var partial = PartialOutput.For(xmlOutput);
        try
        {
            await File.WriteAllTextAsync(partial.Path, domain.ToString(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write {xmlOutput}: {IoErrorText.Reason(ex)}", ex);
        }

        partial.Publish(overwrite: request.Force);
        return new DomainRestoreResult(restored, xmlOutput, checkpoint);
    }

    /// <summary>
    /// The run: the one that made the first disk's point <paramref name="number"/> (or its latest), and for every
    /// disk the point that run made. A run's points all record its time as their end time.
    /// </summary>
    /// <summary>
    /// The run to restore and its point of every disk: the one that made point <paramref name="number"/> of the first disk (or
    /// of <paramref name="diskName"/>); without a number the latest run of <paramref name="diskName"/>, or else the latest
    /// run of all that kept a domain XML, whichever disks it backed up (a disk detached since is in no later run).
    /// </summary>
    private static (DateTimeOffset RunTime, IReadOnlyList<(string Disk, PointRecord Point)> Points) SelectRun(BackupManifest manifest, int? number, string? diskName, string folder)
    {
        var counting = diskName is null
            ? manifest.Disks.FirstOrDefault() ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{folder} holds no disk yet")
            : manifest.Disk(diskName) ?? throw new OfflineExportException(ErrorKind.InvalidRequest, $"{folder} has no disk '{diskName}'; disks: {string.Join(", ", manifest.Disks.Select(d => d.Name))}");
        PointRecord point;
        if (number is { } n)
        {
            point = counting.Point(n) ?? throw new OfflineExportException(ErrorKind.InvalidRequest, $"{counting.Name} has no point {n} in {folder}; points: {string.Join(", ", counting.Points.Select(p => p.Number))}");
        }
        else
        {
            // The latest run with a domain XML (of the disk, when named): a plain backup of one disk into the folder made a run without one.
            var runs = (diskName is null ? manifest.Disks.SelectMany(d => d.Points) : counting.Points).OrderByDescending(p => p.EndTime).ToList();
            point = runs.FirstOrDefault(p => File.Exists(Path.Combine(folder, LibvirtDomain.XmlFileName(p.EndTime))))
                ?? runs.FirstOrDefault()
                ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, diskName is null ? $"{folder} has no point yet" : $"{folder} has no point for {counting.Name}");
        }

        var points = new List<(string, PointRecord)>();
        foreach (var disk in manifest.Disks)
        {
            if (disk.Points.FirstOrDefault(p => p.EndTime == point.EndTime) is { } same)
            {
                points.Add((disk.Name, same));
            }
        }

        return (point.EndTime, points);
    }

    /// <summary>Refuses an XML with a disk the run did not back up (a block or network disk, or one added later): booted, it would use live storage.</summary>
    private static void RequireEveryDiskRestored(XDocument domain, IReadOnlySet<string> restored, string xmlPath)
    {
        var missing = (domain.Root?.Element("devices")?.Elements("disk") ?? [])
            // A lun is a host block device handed through: booted, the XML would use it live. A cdrom or floppy keeps its media.
            .Where(d => (d.Attribute("device")?.Value ?? "disk") is "disk" or "lun")
            .Select(d => d.Element("target")?.Attribute("dev")?.Value ?? "?")
            .Where(dev => !restored.Contains(dev))
            .ToList();
        if (missing.Count > 0)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                $"{xmlPath} has disk(s) {string.Join(", ", missing)} that this run did not back up; a domain XML naming them would boot on live storage: restore the disks one by one instead");
        }
    }

    /// <summary>Points each restored disk's <c>&lt;source file&gt;</c> at its restored image (a standalone qcow2); other disks stay as they were.</summary>
    private static void PointAt(XDocument domain, IReadOnlyList<RestoreResult> restored, string xmlPath)
    {
        var devices = domain.Root?.Element("devices") ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{xmlPath} has no <devices>");
        foreach (var result in restored)
        {
            var disk = devices.Elements("disk").FirstOrDefault(d => d.Element("target")?.Attribute("dev")?.Value == result.Disk)
                ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{xmlPath} has no disk {result.Disk}");
            disk.SetAttributeValue("type", "file");
            var driver = disk.Element("driver") ?? new XElement("driver", new XAttribute("name", "qemu"));
            if (driver.Parent is null)
            {
                disk.AddFirst(driver);
            }

            driver.SetAttributeValue("type", "qcow2");
            var source = disk.Element("source");
            if (source is null)
            {
                source = new XElement("source");
                driver.AddAfterSelf(source);
            }

            source.RemoveAttributes();
            source.SetAttributeValue("file", result.Output);
            disk.Elements("backingStore").Remove();
        }
    }
}
