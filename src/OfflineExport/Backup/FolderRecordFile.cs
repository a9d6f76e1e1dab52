using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OfflineExport.Export;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// The small JSON records a run keeps in its backup folder for the next run (<see cref="BackupRunRecord"/>,
/// <see cref="ForgetJournal"/>): written durably before the step they announce (temporary file, fsync,
/// rename, folder fsync), read back whole or refused with a clear message.
/// </summary>
public static class FolderRecordFile
{
    /// <summary>Writes <paramref name="value"/> as <paramref name="folder"/>/<paramref name="fileName"/>.</summary>
    /// <exception cref="OfflineExportException">The folder cannot be written (OutputProblem).</exception>
    public static void Save<T>(string folder, string fileName, T value, JsonTypeInfo<T> type)
    {
        var path = Path.Combine(folder, fileName);
        // A fresh name, created new: a symlink planted at a fixed name is never followed.
        var temporary = $"{path}.{Guid.NewGuid().ToString("N")[..8]}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, value, type);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The old file is untouched: the caller undoes what it added and the folder is as before.
            OutputFile.TryDelete(temporary);
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write {path}: {IoErrorText.Reason(ex)}", ex);
        }

        try
        {
            FileSync.Folder(folder);
        }
        catch (IOException)
        {
            // The rename is done and visible: failing now would make the caller undo what is recorded. Only its durability across a power cut is in doubt.
        }
    }

    /// <summary>The record, or null when there is none; <paramref name="check"/> may refuse its content with a <see cref="JsonException"/>.</summary>
    /// <exception cref="OfflineExportException">A record is there but cannot be read (BackupFolderProblem), naming <paramref name="what"/> it is.</exception>
    public static T? Load<T>(string folder, string fileName, JsonTypeInfo<T> type, string what, Action<T>? check = null)
        where T : class
    {
        var path = Path.Combine(folder, fileName);
        switch (FileIdentity.OfLink(path))
        {
            case null:
                return null;
            case { Kind: not FileKind.Regular }:
                // A FIFO would block the read for ever; a symlink could lead anywhere (the read refuses both too, if swapped in after this).
                throw new OfflineExportException(ErrorKind.BackupFolderProblem, $"{path}, {what}, is not a regular file (a symlink, FIFO or device); remove it and run again");
        }

        try
        {
            var value = JsonSerializer.Deserialize(RegularFileHandle.ReadAllText(path), type) ?? throw new JsonException("it is empty");
            check?.Invoke(value);
            return value;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                $"cannot read {path}, {what}: {ex.Message}; look at what it lists, remove it, and run again", ex);
        }
    }
}
