namespace OfflineExport.Qemu;

/// <summary>The outcome of <c>qemu-img check</c> on one qcow2 layer.</summary>
/// <param name="ExitCode">0 clean, 1 the check could not complete, 2 corruptions, 3 leaked clusters only.</param>
/// <param name="Report">The counts, when qemu-img printed them.</param>
/// <param name="FirstError">The first line qemu-img flagged as an error ("ERROR …", "qemu-img: …"), or null.</param>
public sealed record ImageCheckResult(int ExitCode, ImageCheckReport? Report, string? FirstError)
{
    /// <summary>True when a reader sees the data the image holds: clean, or only leaked clusters.</summary>
    public bool IsReadable => ExitCode is 0 or 3;
}
