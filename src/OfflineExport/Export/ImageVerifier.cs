using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>Compares a backup with a disk the way the guest sees them (qemu-img compare, formats read, never guessed twice).</summary>
public sealed class ImageVerifier
{
    private readonly ExportOptions _options;

    /// <summary>Creates a verifier with the given tools.</summary>
    public ImageVerifier(ExportOptions options) => _options = options;

    /// <summary>Compares <paramref name="output"/> (a backup) with <paramref name="image"/>: identical or different; a comparison that cannot run is an error.</summary>
    public Task<CompareResult> VerifyAsync(string image, string output, CancellationToken cancellationToken) =>
        VerifyAsync(image, output, null, null, cancellationToken);

    /// <summary>
    /// Compares, reading <paramref name="image"/> as <paramref name="format"/> (null: qemu detects it, from first bytes
    /// the guest of a raw disk writes), and reporting how far the comparison got to <paramref name="progress"/> (<see cref="ProgressStep.Verify"/>).
    /// </summary>
    public Task<CompareResult> VerifyAsync(string image, string output, string? format, IProgress<ExportProgress>? progress, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => CompareAsync(image, output, format, progress, cancellationToken));

    private async Task<CompareResult> CompareAsync(string image, string output, string? format, IProgress<ExportProgress>? progress, CancellationToken cancellationToken)
    {
        ImageFormats.CheckStated(format);
        var qemuImg = _options.CreateQemuImg();
        image = Path.GetFullPath(image);
        output = Path.GetFullPath(output);
        // Before any qemu process: qemu-img would wait for ever for a FIFO's writer.
        ImageFile.Check(image, "image");
        ImageFile.Check(output, "backup");

        // The backup's top is probed (a point is a qcow2 this tool wrote); the image's as stated, if it is.
        var imageChain = await ChainReader.ReadAsync(qemuImg, image, format, "image", cancellationToken).ConfigureAwait(false);
        var outputChain = await ChainReader.ReadAsync(qemuImg, output, null, "backup", cancellationToken).ConfigureAwait(false);
        var imageLayers = ChainValidator.ValidateStructure(imageChain);
        ChainValidator.ValidateStructure(outputChain);
        ImageFile.CheckDataFiles(imageChain);
        var result = await qemuImg.CompareAsync(output, outputChain[0].Format, ChainDescription.QemuImgName(imageLayers), imageChain[0].Format, cancellationToken,
            ExportProgress.ReporterFor(progress, ProgressStep.Verify, (ulong)imageChain[0].VirtualSize), secondShownAs: image).ConfigureAwait(false);
        if (result.ExitCode >= 2 && QemuImg.IsLockError(result.Message))
        {
            throw OfflineExportException.ImageInUse(image, result.Message);
        }

        if (result.ExitCode >= 2)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"qemu-img compare could not run (exit code {result.ExitCode}): {result.Message}");
        }

        return result;
    }
}
