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
        FailureTranslation.RunAsync(() => RestoreAsync(request, cancellationToken));

    private async Task<DomainRestoreResult> RestoreAsync(DomainRestoreRequest request, CancellationToken cancellationToken)
    {
        var folder = Path.GetFullPath(request.Folder);
        var output = Path.GetFullPath(request.OutputFolder);
        var manifest = ManifestStore.LoadExisting(folder);
        if (FileIdentity.Of(output) is { } existing && FileIdentity.Of(folder) is { } own && existing.IsSameFileAs(own))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"{output} is the backup folder itself; restore the domain into another folder");
        }

        var (checkpoint, points) = SelectRun(manifest, request.Point, folder);
        var xmlPath = Path.Combine(folder, LibvirtDomain.XmlFileName(checkpoint));
        XDocument domain;
        try
        {
            domain = XDocument.Load(xmlPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or XmlException)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"the run of checkpoint {checkpoint} has no readable domain XML ({xmlPath}): {IoErrorText.Reason(ex)}; was it made with backup --domain?", ex);
        }

        try
        {
            Directory.CreateDirectory(output);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot create {output}: {IoErrorText.Reason(ex)}", ex);
        }

        var xmlOutput = Path.Combine(output, "domain.xml");
        OutputFile.CheckCanCreate(xmlOutput, request.Force);
        var restored = new List<RestoreResult>();
        foreach (var (disk, point) in points)
        {
            var image = Path.Combine(output, disk + ".qcow2");
            restored.Add(await new RestoreSession(_options).RunAsync(
                new RestoreRequest { Folder = folder, Output = image, Disk = disk, Point = point.Number, Force = request.Force },
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
    /// The run: the checkpoint the first disk's point <paramref name="number"/> (or its latest) started, and
    /// for every disk the point that started the same checkpoint.
    /// </summary>
    private static (string Checkpoint, IReadOnlyList<(string Disk, PointRecord Point)> Points) SelectRun(BackupManifest manifest, int? number, string folder)
    {
        var first = manifest.Disks.FirstOrDefault() ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{folder} holds no disk yet");
        var point = number is { } n
            ? first.Point(n) ?? throw new OfflineExportException(ErrorKind.InvalidRequest, $"{first.Name} has no point {n} in {folder}; points: {string.Join(", ", first.Points.Select(p => p.Number))}")
            : first.Latest ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{folder} has no point for {first.Name}");
        var checkpoint = point.CheckpointCreated
            ?? throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"point {point.Number} of {first.Name} started no checkpoint, so it names no run of a domain");
        var points = new List<(string, PointRecord)>();
        foreach (var disk in manifest.Disks)
        {
            if (disk.Points.FirstOrDefault(p => p.CheckpointCreated == checkpoint) is { } same)
            {
                points.Add((disk.Name, same));
            }
        }

        return (checkpoint, points);
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
