using System.Globalization;
using OfflineExport.Processes;

namespace OfflineExport.Qemu;

/// <summary>Typed calls of <c>qemu-img</c>. The working folder is the image's folder so relative names resolve as qemu expects.</summary>
public sealed class QemuImg
{
    private readonly Command _command;

    /// <summary>Creates a wrapper for the qemu-img at <paramref name="executable"/>.</summary>
    public QemuImg(string executable, Action<string>? log = null)
    {
        _command = new Command(executable).WithLog(log);
    }

    /// <summary>
    /// Reads the whole chain, top first, with <c>info --backing-chain --output=json -U</c>. <c>-U</c>
    /// reads images held by other processes too; <see cref="EnsureNotInUseAsync"/> checks the lock.
    /// </summary>
    public async Task<IReadOnlyList<ImageInfo>> GetBackingChainAsync(string image, CancellationToken cancellationToken)
    {
        var result = await RunAsync(["info", "--backing-chain", "--output=json", "-U", image], image, cancellationToken).ConfigureAwait(false);
        return QemuJson.ParseChain(result.StandardOutput);
    }

    /// <summary>
    /// Fails with <see cref="ImageInUseException"/> when another process holds <paramref name="image"/>
    /// for writing: without <c>-U</c>, qemu-img takes the shared locks a running VM refuses.
    /// </summary>
    public Task EnsureNotInUseAsync(string image, string format, CancellationToken cancellationToken) =>
        RunWithLockCheckAsync(["info", "-f", format, "--output=json", image], image, cancellationToken);

    /// <summary>True when qemu's error text says a lock is held by someone else.</summary>
    public static bool IsLockError(string text) =>
        text.Contains("Failed to get shared \"write\" lock", StringComparison.Ordinal)
        || text.Contains("Failed to get \"write\" lock", StringComparison.Ordinal)
        || text.Contains("Is another process using the image", StringComparison.Ordinal);

    /// <summary>
    /// Creates a qcow2 image. <paramref name="backing"/> is recorded as given (pass a name relative to
    /// the new image's folder so a backup folder can move), always with its format.
    /// </summary>
    public async Task CreateQcow2Async(string path, long virtualSize, int clusterSize, string? backing, string backingFormat, CancellationToken cancellationToken)
    {
        List<string> args = ["create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize.ToString(CultureInfo.InvariantCulture)}"];
        if (backing is not null)
        {
            args.AddRange(["-b", backing, "-F", backingFormat]);
        }

        args.AddRange([path, virtualSize.ToString(CultureInfo.InvariantCulture)]);
        await RunAsync(args, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Compares the guest-visible contents of two images (<c>qemu-img compare</c>, never strict).
    /// Exit 0: identical, 1: different, 2+: error (see ARCHITECTURE.md).
    /// </summary>
    public async Task<CompareResult> CompareAsync(string first, string firstFormat, string second, string secondFormat, CancellationToken cancellationToken)
    {
        var result = await _command
            .WithArguments(["compare", "-f", firstFormat, "-F", secondFormat, first, second])
            .WithWorkingDirectory(Path.GetDirectoryName(first))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken).ConfigureAwait(false);
        var message = TextTail.LastLines(result.StandardOutput + "\n" + result.StandardError, 2);
        return new CompareResult(result.ExitCode, message);
    }

    /// <summary>Adds a persistent, enabled dirty bitmap to <paramref name="image"/> (opens it read-write: fails on a running VM's image).</summary>
    public async Task AddBitmapAsync(string image, string format, string name, CancellationToken cancellationToken) =>
        await RunWithLockCheckAsync(["bitmap", "--add", "--enable", "-f", format, image, name], image, cancellationToken).ConfigureAwait(false);

    /// <summary>Removes the dirty bitmap <paramref name="name"/> from <paramref name="image"/>.</summary>
    public async Task RemoveBitmapAsync(string image, string format, string name, CancellationToken cancellationToken) =>
        await RunWithLockCheckAsync(["bitmap", "--remove", "-f", format, image, name], image, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Copies the guest-visible contents of <paramref name="source"/> (with its whole chain) into a new
    /// standalone qcow2 <paramref name="output"/>, keeping it sparse.
    /// </summary>
    public async Task ConvertToQcow2Async(string source, string sourceFormat, string output, CancellationToken cancellationToken) =>
        await RunAsync(["convert", "-f", sourceFormat, "-O", "qcow2", source, output], output, cancellationToken).ConfigureAwait(false);

    private async Task RunWithLockCheckAsync(IEnumerable<string> args, string image, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(args, image, cancellationToken).ConfigureAwait(false);
        }
        catch (CommandExecutionException ex) when (IsLockError(ex.StandardError))
        {
            throw new ImageInUseException(image, TextTail.LastLines(ex.StandardError, 1));
        }
    }

    private async Task<BufferedCommandResult> RunAsync(IEnumerable<string> args, string pathForFolder, CancellationToken cancellationToken)
    {
        try
        {
            return await _command
                .WithArguments(args)
                .WithWorkingDirectory(Path.GetDirectoryName(Path.GetFullPath(pathForFolder)))
                .ExecuteBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CommandNotFoundException ex)
        {
            throw new ToolNotFoundException(_command.TargetFilePath, QemuTools.QemuImgPackage, "cannot be run: " + ex.InnerException?.Message);
        }
    }
}
