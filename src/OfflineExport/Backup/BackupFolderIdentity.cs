using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// Pure: settles which folder a manifest describes. A manifest without a folder record (a new folder, or
/// one written before the record existed) gets one; a folder at another inode than recorded is a copy and
/// gets a new id, remembering the old one so the original's checkpoints stay the original's.
/// </summary>
public static class BackupFolderIdentity
{
    /// <summary>The manifest with its folder record settled, and a note when the folder turned out to be a copy.</summary>
    /// <param name="manifest">The manifest as loaded.</param>
    /// <param name="folder">The folder's identity now (null when it does not exist yet: a dry run into a new folder).</param>
    /// <param name="newId">Makes a new random id.</param>
    /// <param name="path">The folder's path, for the note.</param>
    public static (BackupManifest Manifest, string? Note) Settle(BackupManifest manifest, FileIdentity? folder, Func<string> newId, string path)
    {
        var device = folder?.Device ?? 0;
        var inode = folder?.Inode ?? 0;
        var born = folder?.BirthTime;
        if (manifest.Folder is not { } recorded)
        {
            return (manifest with { Folder = new FolderRecord { Id = newId(), Device = device, Inode = inode, Born = born } }, null);
        }

        // The inode and the birth time tell a copy: device numbers of NFS and device-mapper file systems change
        // across remounts, and a copy onto a freshly made file system can get the original's inode number.
        var sameBirth = recorded.Born is null || born is null || recorded.Born == born;
        if (folder is null || (recorded.Inode == inode && sameBirth))
        {
            var settled = folder is null ? recorded : recorded with { Device = device, Born = recorded.Born ?? born };
            return (settled == recorded ? manifest : manifest with { Folder = settled }, null);
        }

        var copy = new FolderRecord { Id = newId(), Device = device, Inode = inode, Born = born, CopiedFrom = [.. recorded.CopiedFrom, recorded.Id] };
        var how = recorded.Inode != inode ? $"it was inode {recorded.Inode}, now {inode}" : $"inode {inode} as before, but the folder was created {Describe(born!.Value)}, not {Describe(recorded.Born!.Value)}";
        return (manifest with { Folder = copy },
            $"backup folder {path} is a copy of another ({how}): it gets its own id ({copy.Tag}) and checkpoints; those it inherited stay the original's");
    }

    private static string Describe(long nanoseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(nanoseconds / 1_000_000).ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// For the verbs that remove checkpoints but make no point (forget, checkpoints): only a copy is settled
    /// (a new id, the original's remembered), so the original's checkpoints are never taken for this folder's;
    /// a manifest without a folder record stays without one (only what its points record is provably its own).
    /// </summary>
    public static (BackupManifest Manifest, string? Note) SettleCopy(BackupManifest manifest, FileIdentity? folder, string path) =>
        manifest.Folder is null ? (manifest, null) : Settle(manifest, folder, NewId, path);

    /// <summary>A new random folder id: 32 hex digits.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");
}
