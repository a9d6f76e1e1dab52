using OfflineExport.Export;
using OfflineExport.Processes;

namespace OfflineExport.Backup;

/// <summary>
/// The work a backup run has under way in its folder, written before each step that adds something
/// (a checkpoint in a disk, a file in the folder) and removed once the manifest records the result.
/// A record found by the next run (which holds the folder lock, so its writer is gone) lists exactly
/// what a killed run left: <see cref="KilledRunRecovery"/> removes it. Files are recognised as a killed
/// run's by this record, never by their names alone (and only names a run gives its points count: an
/// edited record cannot have manifest.json removed).
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
    /// <exception cref="OfflineExportException">The folder cannot be written (OutputProblem).</exception>
    public void Save(string folder) => FolderRecordFile.Save(folder, FileName, this, BackupRunJsonContext.Default.BackupRunRecord);

    /// <summary>The record in <paramref name="folder"/>, or null when there is none.</summary>
    /// <exception cref="OfflineExportException">A record is there but cannot be read (BackupFolderProblem).</exception>
    public static BackupRunRecord? Load(string folder) =>
        FolderRecordFile.Load(folder, FileName, BackupRunJsonContext.Default.BackupRunRecord, "the record of an earlier run's unfinished work");

    /// <summary>Removes the record of <paramref name="folder"/> (its work is recorded in the manifest or undone).</summary>
    public static void Delete(string folder) => OutputFile.TryDelete(Path.Combine(folder, FileName));
}
