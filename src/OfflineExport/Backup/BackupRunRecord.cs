using System.Text.Json;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Processes;

namespace OfflineExport.Backup;

/// <summary>
/// The work a backup run has under way in its folder, written before each step that adds something
/// (a checkpoint in a disk, a file in the folder) and removed once the manifest records the result.
/// A record found by the next run (which holds the folder lock, so its writer is gone) lists exactly
/// what a killed run left: <see cref="KilledRunRecovery"/> removes it. Files are recognised as a killed
/// run's by this record, never by their names.
/// </summary>
public sealed record BackupRunRecord
{
    /// <summary>The record's file name inside the backup folder.</summary>
    public const string FileName = ".offline-export.run.json";

    /// <summary>The run.</summary>
    public required ProcessIdentity Owner { get; init; }

    /// <summary>When the run started.</summary>
    public required DateTimeOffset StartTime { get; init; }

    /// <summary>Checkpoints the run is adding or has added.</summary>
    public IReadOnlyList<RunCheckpoint> Checkpoints { get; init; } = [];

    /// <summary>Plain names of files the run is creating in the folder (pending and final names).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>A copy with <paramref name="checkpoint"/> added.</summary>
    public BackupRunRecord With(RunCheckpoint checkpoint) => this with { Checkpoints = [.. Checkpoints, checkpoint] };

    /// <summary>A copy with <paramref name="file"/> (a plain name) added.</summary>
    public BackupRunRecord WithFile(string file) => this with { Files = [.. Files, file] };

    /// <summary>Writes the record durably (temporary file, fsync, rename): it must exist before the step it announces.</summary>
    /// <exception cref="OfflineExportException">The folder cannot be written (BackupFolderProblem).</exception>
    public void Save(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, this, BackupRunJsonContext.Default.BackupRunRecord);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            FileSync.Folder(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            OutputFile.TryDelete(temporary);
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot write {path}: {IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>The record in <paramref name="folder"/>, or null when there is none.</summary>
    /// <exception cref="OfflineExportException">A record is there but cannot be read (BackupFolderProblem).</exception>
    public static BackupRunRecord? Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), BackupRunJsonContext.Default.BackupRunRecord)
                ?? throw new JsonException("empty record");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new OfflineExportException(ErrorKind.BackupFolderProblem,
                $"cannot read {path}, the record of an earlier run's unfinished work: {ex.Message}; look at what it lists, remove it, and run again", ex);
        }
    }

    /// <summary>Removes the record of <paramref name="folder"/> (its work is recorded in the manifest or undone).</summary>
    public static void Delete(string folder) => OutputFile.TryDelete(Path.Combine(folder, FileName));
}
