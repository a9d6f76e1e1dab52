namespace OfflineExport.Backup;

/// <summary>The manifest of a backup folder (manifest.json): every disk and every point.</summary>
public sealed record BackupManifest
{
    /// <summary>The manifest format; bumped on incompatible changes.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Which folder this is: its id (in every checkpoint name it makes) and inode. Null in manifests written before it was recorded (the next run adds it).</summary>
    public FolderRecord? Folder { get; init; }

    /// <summary>The disks, in the order they were first backed up.</summary>
    public IReadOnlyList<DiskRecord> Disks { get; init; } = [];

    /// <summary>The disk called <paramref name="name"/>, or null.</summary>
    public DiskRecord? Disk(string name) => Disks.FirstOrDefault(d => d.Name == name);

    /// <summary>A copy with <paramref name="disk"/> added or replacing the disk of the same name.</summary>
    public BackupManifest WithDisk(DiskRecord disk)
    {
        var disks = Disks.ToList();
        var index = disks.FindIndex(d => d.Name == disk.Name);
        if (index >= 0)
        {
            disks[index] = disk;
        }
        else
        {
            disks.Add(disk);
        }

        return this with { Disks = disks };
    }
}
