using Microsoft.Win32.SafeHandles;

namespace OfflineExport.Export;

/// <summary>
/// An output under its temporary name until it is complete (written, flushed, verified): only
/// <see cref="Publish"/> puts it in place; disposed unpublished, it is deleted. Export and restore both
/// write through one, so an output appears whole or not at all.
/// </summary>
public sealed class PartialOutput : IDisposable
{
    private const UnixFileMode NewImageMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private bool _published;

    /// <summary>
    /// The file <see cref="CreateEmpty"/> made, held open until the end: the daemon writes it without flushing
    /// (cache.no-flush) and then closes it, and the kernel reports a failed write-back to a descriptor that was
    /// open before the failure, so the publish fsyncs through this one rather than a new open by name.
    /// </summary>
    private SafeFileHandle? _held;

    private PartialOutput(string output)
    {
        Output = output;
        Path = OutputFile.PartialName(output);
    }

    /// <summary>The final name.</summary>
    public string Output { get; }

    /// <summary>The temporary name it is written under, in the same folder (so the rename is atomic).</summary>
    public string Path { get; }

    /// <summary>The file <see cref="CreateEmpty"/> made (device and inode), or null before: what a daemon must have open.</summary>
    public IO.FileIdentity? Created { get; private set; }

    /// <summary>A partial file for <paramref name="output"/> (nothing is created yet).</summary>
    public static PartialOutput For(string output) => new(output);

    /// <summary>
    /// Creates the partial file empty, as this process's own: never an existing file nor a symlink's target
    /// (O_EXCL), rw-r--r-- as qemu-img gives a new image. Early, so an unwritable folder is told before any work.
    /// </summary>
    /// <exception cref="OfflineExportException">It cannot be created (OutputProblem).</exception>
    public void CreateEmpty()
    {
        try
        {
            _held = IO.RegularFileHandle.CreateNew(Path, NewImageMode);
            // Through our own descriptor, not the name: the name may already lead elsewhere.
            Created = IO.FileIdentity.OfOpen(_held);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot create {Output}: {IO.IoErrorText.Reason(ex)}", ex);
        }
    }

    /// <summary>Syncs the file, renames it to <see cref="Output"/> and syncs the folder.</summary>
    /// <exception cref="OfflineExportException">The file under the temporary name is not the one this run created (OutputProblem).</exception>
    public void Publish(bool overwrite)
    {
        // After the daemon is gone the name is all there is: it must still be our file, not a symlink put in its place.
        if (Created is { } created && !(IO.FileIdentity.OfLink(Path) is { Kind: IO.FileKind.Regular } now && now.IsSameFileAs(created)))
        {
            throw Replaced("nothing was put in place");
        }

        OutputFile.Publish(Path, Output, overwrite, _held);
        _published = true;
        _held?.Dispose();
    }

    /// <summary>The error when the temporary name no longer leads to the file <see cref="CreateEmpty"/> made; <paramref name="consequence"/> says what was spared.</summary>
    public OfflineExportException Replaced(string consequence) => new(ErrorKind.OutputProblem,
        $"cannot write {Output}: {Path} is no longer the file this run created (another process replaced it); {consequence}");

    /// <summary>Deletes the partial file unless it was published.</summary>
    public void Dispose()
    {
        _held?.Dispose();
        if (!_published)
        {
            OutputFile.TryDelete(Path);
        }
    }
}
