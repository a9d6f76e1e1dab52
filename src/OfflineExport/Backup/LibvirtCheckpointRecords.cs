using System.Xml;
using System.Xml.Linq;
using OfflineExport.IO;
using OfflineExport.Libvirt;

namespace OfflineExport.Backup;

/// <summary>
/// libvirt's records of the checkpoints a folder registered (<c>backup --domain</c>): when the folder removes
/// such a checkpoint's bitmaps, libvirt forgets it too (<c>checkpoint-delete --metadata</c>), or its next live
/// incremental from it would fail. Only names libvirt lists and this folder removed are deleted.
/// </summary>
public static class LibvirtCheckpointRecords
{
    /// <summary>Deletes libvirt's record of each of <paramref name="removed"/> it has; failures are warnings (the points are safe).</summary>
    public static async Task ForgetAsync(Virsh virsh, string domain, string label, IReadOnlyCollection<string> removed, List<string> warnings, CancellationToken cancellationToken)
    {
        if (removed.Count == 0)
        {
            return;
        }

        try
        {
            var known = await virsh.CheckpointNamesAsync(domain, cancellationToken).ConfigureAwait(false);
            foreach (var name in removed.Where(known.Contains))
            {
                await virsh.DeleteCheckpointMetadataAsync(domain, name, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            warnings.Add($"domain {label}: could not remove libvirt's record of the removed checkpoints: {ex.Message}");
        }
    }

    /// <summary>
    /// For the verbs that know no domain (forget, checkpoints): the domain of the folder's newest kept domain XML
    /// (a <c>backup --domain</c> folder keeps one per run), by its UUID; nothing when the folder never backed one up.
    /// </summary>
    public static async Task ForgetForFolderAsync(string folder, string uri, Action<string>? log, IReadOnlyCollection<string> removed, List<string> warnings, CancellationToken cancellationToken)
    {
        if (removed.Count == 0 || DomainUuidOf(folder) is not { } uuid)
        {
            return;
        }

        await ForgetAsync(new Virsh(uri, log: log), uuid, uuid, removed, warnings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The UUID in the newest <c>domain.*.xml</c> of the folder (a regular file), or null.</summary>
    private static string? DomainUuidOf(string folder)
    {
        var newest = Directory.EnumerateFiles(folder, "domain.*.xml")
            .Where(path => FileIdentity.OfLink(path) is { Kind: FileKind.Regular })
            .Order(StringComparer.Ordinal)
            .LastOrDefault();
        if (newest is null)
        {
            return null;
        }

        try
        {
            using var reader = XmlReader.Create(newest, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            var uuid = XDocument.Load(reader).Root?.Element("uuid")?.Value.Trim();
            // A UUID is hex and dashes: anything else is not handed to virsh.
            return uuid is { Length: > 0 } && uuid.All(c => char.IsAsciiHexDigit(c) || c == '-') ? uuid : null;
        }
        catch (Exception ex) when (ex is XmlException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
