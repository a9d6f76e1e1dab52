using System.Xml;
using System.Xml.Linq;
using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// Reads the disks of a libvirt domain from its XML (the output of <c>virsh dumpxml</c> of a shut-off
/// domain): file-backed disks only; cdroms, floppies and network or block disks are skipped. The
/// &lt;driver type&gt; is the format the VM uses, so it is the format the disk is read as; a disk of a
/// format offline-export cannot read refuses the whole domain rather than leaving it half backed up.
/// </summary>
public static class DomainXml
{
    /// <summary>Parses the domain XML at <paramref name="path"/>.</summary>
    public static IReadOnlyList<DomainDisk> Read(string path)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(path);
        }
        catch (Exception ex) when (ex is XmlException or IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"cannot read domain XML {path}: {IoErrorText.Reason(ex)}", ex);
        }

        if (document.Root?.Name.LocalName != "domain")
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"{path} is not a libvirt domain XML (no <domain> root)");
        }

        var disks = new List<DomainDisk>();
        foreach (var disk in document.Root.Elements("devices").Elements("disk"))
        {
            var target = disk.Element("target")?.Attribute("dev")?.Value;
            var device = disk.Attribute("device")?.Value ?? "disk";
            var type = disk.Attribute("type")?.Value ?? "file";
            var file = disk.Element("source")?.Attribute("file")?.Value;
            string? skipped = device != "disk" ? $"a {device}"
                : type != "file" ? $"a {type} disk, not a file"
                : string.IsNullOrEmpty(file) ? "no source file"
                : null;
            var format = disk.Element("driver")?.Attribute("type")?.Value is { Length: > 0 } driverType ? driverType : null;
            if (skipped is null && format is not null && !ImageFormats.IsSupported(format))
            {
                throw new OfflineExportException(ErrorKind.InvalidImage,
                    $"disk {target ?? file} of domain XML {path} is a {format} image ({file}); offline-export reads only raw and qcow2 disks, and will not back up the domain without it");
            }

            disks.Add(new DomainDisk(target, skipped is null ? file : null, skipped, skipped is null ? format : null));
        }

        if (!disks.Any(d => d.Image is not null))
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"domain XML {path} has no file-backed disk to back up");
        }

        return disks;
    }
}
