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

        return Disks(document.Root, $"domain XML {path}");
    }

    /// <summary>Parses a domain XML that libvirt gave for <paramref name="domain"/> (<c>virsh dumpxml</c>).</summary>
    public static IReadOnlyList<DomainDisk> Parse(string xml, string domain)
    {
        XDocument document;
        try
        {
            document = XDocument.Parse(xml);
        }
        catch (XmlException ex)
        {
            throw new OfflineExportException(ErrorKind.QemuFailure, $"libvirt gave an unreadable XML for domain {domain}: {ex.Message}", ex);
        }

        return document.Root?.Name.LocalName == "domain"
            ? Disks(document.Root, $"domain {domain}")
            : throw new OfflineExportException(ErrorKind.QemuFailure, $"libvirt gave no <domain> XML for domain {domain}");
    }

    /// <summary>The disks of <paramref name="root"/>; <paramref name="origin"/> names the domain in messages.</summary>
    private static IReadOnlyList<DomainDisk> Disks(XElement root, string origin)
    {
        var disks = new List<DomainDisk>();
        foreach (var disk in root.Elements("devices").Elements("disk"))
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
                    $"disk {target ?? file} of {origin} is a {format} image ({file}); offline-export reads only raw and qcow2 disks, and will not back up the domain without it");
            }

            disks.Add(new DomainDisk(target, skipped is null ? file : null, skipped, skipped is null ? format : null, HoldsData: device is "disk" or "lun"));
        }

        if (!disks.Any(d => d.Image is not null))
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"{origin} has no file-backed disk to back up");
        }

        return disks;
    }
}
