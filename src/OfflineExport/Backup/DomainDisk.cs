namespace OfflineExport.Backup;

/// <summary>A disk of a libvirt domain XML: an image to back up, or one skipped and why.</summary>
/// <param name="Target">The guest device name (vda, sdb …), if given.</param>
/// <param name="Image">The image path, or null when skipped.</param>
/// <param name="Skipped">Why it was skipped, or null.</param>
/// <param name="Format">The format the domain runs it as (&lt;driver type&gt;: "raw" or "qcow2"), or null when the XML gives none.</param>
/// <param name="HoldsData">False for a cdrom or floppy: skipping one loses nothing; a skipped data disk is a warning.</param>
public sealed record DomainDisk(string? Target, string? Image, string? Skipped, string? Format = null, bool HoldsData = true);
