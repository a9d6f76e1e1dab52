using Microsoft.Win32.SafeHandles;
using OfflineExport.IO;

namespace OfflineExport.Export;

/// <summary>
/// How outputs appear (ARCHITECTURE.md, "Safety invariants"): written under a temporary name in the
/// final folder, made durable, renamed into place in one step; removed on any failure.
/// </summary>
public static class OutputFile
{
    /// <summary>A temporary name next to <paramref name="output"/>: "OUTPUT.1a2b3c4d.partial".</summary>
    public static string PartialName(string output) => $"{output}.{Guid.NewGuid().ToString("N")[..8]}.partial";

    /// <summary>
    /// Refuses an output whose folder is missing, that is a folder, that is anything but a regular file
    /// (a device, a pipe, a symlink: the rename would replace the name, never write what it leads to), or
    /// that exists without <paramref name="force"/>.
    /// </summary>
    public static void CheckCanCreate(string output, bool force)
    {
        var folder = Path.GetDirectoryName(output)!;
        if (!Directory.Exists(folder))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"output folder {folder} does not exist");
        }

        if (Directory.Exists(output))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"output {output} is a folder");
        }

        if (FileIdentity.OfLink(output) is { Kind: not FileKind.Regular } entry)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem,
                $"output {output} is {FileKindText.Describe(entry.Kind)}, not a regular file; a backup or a restore is always written as a new file and renamed into place, so it would replace that name, never write into {(entry.Kind == FileKind.Symlink ? "what it leads to" : "it")}: name a regular file (convert the image onto a device afterwards, e.g. qemu-img convert -O raw FILE DEVICE)");
        }

        if (File.Exists(output) && !force)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"output {output} already exists; use --force to replace it");
        }

        if (File.Exists(output) && BackupFolderMarker.IsBackupFolder(folder))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem,
                $"output {output} is a file of the backup folder {folder} (it holds {BackupFolderMarker.ManifestName}); only backup and forget change a backup folder's files: name a file elsewhere");
        }
    }

    /// <summary>Makes <paramref name="partial"/> durable, then gives it its final name in one atomic rename.</summary>
    /// <param name="partial">The file under its temporary name.</param>
    /// <param name="output">Its final name.</param>
    /// <param name="overwrite">An existing file of that name is replaced.</param>
    /// <param name="held">The partial file, held open since before it was written (synced through it), or null (synced by name).</param>
    public static void Publish(string partial, string output, bool overwrite, SafeFileHandle? held = null)
    {
        try
        {
            if (held is null)
            {
                FileSync.File(partial);
            }
            else
            {
                FileSync.File(held);
            }

            File.Move(partial, output, overwrite);
            FileSync.Folder(Path.GetDirectoryName(output)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot put {output} in place: {IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>Removes a partial or pending file; never throws (the failure being reported matters more).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
