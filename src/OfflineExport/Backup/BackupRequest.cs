namespace OfflineExport.Backup;

/// <summary>One backup run: several disks into one backup folder.</summary>
public sealed record BackupRequest
{
    /// <summary>The top images of the stopped VM's disks.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    /// <summary>
    /// The stated format ("raw", "qcow2") of each image, in the order of <see cref="Images"/>; a null or
    /// missing entry: not stated, so the format the backup folder recorded is used, or else qemu's guess (and the run says so).
    /// </summary>
    public IReadOnlyList<string?> Formats { get; init; } = [];

    /// <summary>
    /// The name each image's disk has in the folder, in the order of <see cref="Images"/>; a null or missing
    /// entry: the file name without its extension. Disks of a libvirt domain are named by their target dev (vda).
    /// </summary>
    public IReadOnlyList<string?> Names { get; init; } = [];

    /// <summary>
    /// A libvirt domain, by name, whose file-backed disks are backed up (read as their <c>&lt;driver type&gt;</c>,
    /// named by their target dev). It must be shut off; each checkpoint this run adds is registered with
    /// libvirt, so the domain's next live incremental backup continues from it.
    /// </summary>
    public string? Domain { get; init; }

    /// <summary>
    /// Seeds for disks new to the folder, by disk name: a full backup another tool wrote (libvirt's push backup)
    /// at the checkpoint <see cref="SinceCheckpoint"/>. Each becomes the disk's point 0, and this run's point 1
    /// is the incremental since that checkpoint, verified against the disk (which proves the seed too).
    /// </summary>
    public IReadOnlyDictionary<string, string> Seeds { get; init; } = new Dictionary<string, string>();

    /// <summary>The checkpoint the <see cref="Seeds"/> were taken at (a bitmap in each seeded disk).</summary>
    public string? SinceCheckpoint { get; init; }

    /// <summary>With <see cref="Domain"/>: a running domain is asked to shut down, and waited for up to <see cref="ShutdownTimeout"/>.</summary>
    public bool Shutdown { get; init; }

    /// <summary>How long <see cref="Shutdown"/> waits for "shut off".</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>With <see cref="Domain"/>: start the domain after the backup, whatever its outcome.</summary>
    public bool Start { get; init; }

    /// <summary>The libvirt connection URI for <see cref="Domain"/>; null: the configured one (<see cref="Export.ExportOptions.LibvirtUri"/>).</summary>
    public string? Connect { get; init; }

    /// <summary>
    /// A libvirt domain XML (<c>virsh dumpxml</c> of the shut-off domain) whose file-backed disks are backed
    /// up after <see cref="Images"/>, each read as its <c>&lt;driver type&gt;</c>; other disks are skipped with a note.
    /// </summary>
    public string? DomainXml { get; init; }

    /// <summary>The backup folder (created if missing).</summary>
    public required string Target { get; init; }

    /// <summary>Which point to make.</summary>
    public BackupLevel Level { get; init; } = BackupLevel.Auto;

    /// <summary>Prove each new point with qemu-img compare before it counts.</summary>
    public bool Verify { get; init; }

    /// <summary>Keep only this many of this folder's newest checkpoints in the source images (null: keep all).</summary>
    public int? KeepCheckpoints { get; init; }

    /// <summary>
    /// With an automatic level, a full point instead of an incremental once the disk's current chain holds this
    /// many points (its full one included), so no chain grows without bound (null: never).
    /// </summary>
    public int? FullEvery { get; init; }

    /// <summary>Plan and measure only: no checkpoint added, nothing written.</summary>
    public bool DryRun { get; init; }
}
