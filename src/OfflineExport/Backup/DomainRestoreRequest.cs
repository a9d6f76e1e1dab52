namespace OfflineExport.Backup;

/// <summary>Restore a whole domain as one backup run left it: every disk of that run, and the domain XML pointing at them.</summary>
public sealed record DomainRestoreRequest
{
    /// <summary>The backup folder (made by <c>backup --domain</c>).</summary>
    public required string Folder { get; init; }

    /// <summary>The folder to write the disks (<c>DISK.qcow2</c>) and <c>domain.xml</c> into (created if missing).</summary>
    public required string OutputFolder { get; init; }

    /// <summary>The run, by the number of the point it made of the first disk (or of <see cref="PointOf"/>); null: the latest run.</summary>
    public int? Point { get; init; }

    /// <summary>The disk whose points <see cref="Point"/> counts (a run after the first disk was detached made none of it); null: the first.</summary>
    public string? PointOf { get; init; }

    /// <summary>Replace files of the same names in <see cref="OutputFolder"/>.</summary>
    public bool Force { get; init; }
}
