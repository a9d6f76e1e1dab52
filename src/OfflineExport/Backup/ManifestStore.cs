using System.Text.Json;
using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>Reads and writes a backup folder's manifest.json; writes are atomic (temporary file, fsync, rename, fsync folder).</summary>
public static class ManifestStore
{
    /// <summary>The manifest's file name inside the backup folder.</summary>
    public const string FileName = BackupFolderMarker.ManifestName;

    /// <summary>Loads the manifest of <paramref name="folder"/>; an empty one when the folder has none yet.</summary>
    public static BackupManifest Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        switch (FileIdentity.OfLink(path))
        {
            case null:
                return new BackupManifest();
            case { Kind: not FileKind.Regular }:
                // A FIFO would block the read for ever; a symlink could lead anywhere (the read refuses both too, if swapped in after this).
                throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{path} is not a regular file (a symlink, FIFO or device); nothing was read");
        }

        try
        {
            var manifest = JsonSerializer.Deserialize(RegularFileHandle.ReadAllText(path), ManifestJsonContext.Default.BackupManifest)
                ?? throw new JsonException("empty manifest");
            if (manifest.FormatVersion != 1)
            {
                throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{path} has format version {manifest.FormatVersion}; this offline-export reads version 1");
            }

            ManifestValidation.Check(manifest, path);

            return manifest;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"cannot read {path}: {IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>Loads the manifest of a folder that must already be a backup folder.</summary>
    public static BackupManifest LoadExisting(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                File.Exists(folder) ? $"{folder} is a file, not a backup folder" : $"backup folder {folder} does not exist");
        }

        if (!File.Exists(Path.Combine(folder, FileName)))
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{folder} is not a backup folder (no {FileName})");
        }

        return Load(folder);
    }

    /// <summary>Replaces the manifest atomically: readers see the old or the new one, never half of one.</summary>
    /// <exception cref="OfflineExportException">The folder cannot be written (OutputProblem); the old manifest is untouched.</exception>
    public static void Save(string folder, BackupManifest manifest) =>
        FolderRecordFile.Save(folder, FileName, manifest, ManifestJsonContext.Default.BackupManifest);
}
