namespace OfflineExport.Export;

/// <summary>
/// What marks a folder as a backup folder: its manifest. Known here, below the backup workflow, so that an
/// export or a restore never replaces a file of such a folder: only backup and forget change its files.
/// </summary>
public static class BackupFolderMarker
{
    /// <summary>The manifest's file name inside a backup folder.</summary>
    public const string ManifestName = "manifest.json";

    /// <summary>True when <paramref name="folder"/> holds a backup folder's manifest.</summary>
    public static bool IsBackupFolder(string folder) => File.Exists(Path.Combine(folder, ManifestName));
}
