using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>Reads a disk's chain and judges every checkpoint in it by the same rules an export applies.</summary>
public sealed class ImageInspector
{
    private readonly ExportOptions _options;

    /// <summary>Creates an inspector with the given tools.</summary>
    public ImageInspector(ExportOptions options) => _options = options;

    /// <summary>Inspects <paramref name="image"/> without changing it.</summary>
    /// <param name="image">The top image.</param>
    /// <param name="format">Its format as the caller states it ("raw", "qcow2"), or null to let qemu detect it (the report says so).</param>
    /// <param name="cancellationToken">Stops the inspection.</param>
    public Task<ImageReport> InspectAsync(string image, string? format, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => ReadReportAsync(image, format, cancellationToken));

    private async Task<ImageReport> ReadReportAsync(string image, string? format, CancellationToken cancellationToken)
    {
        ImageFormats.CheckStated(format);
        var qemuImg = _options.CreateQemuImg();
        image = Path.GetFullPath(image);
        ImageFile.Check(image, "image");
        var chain = await ChainReader.ReadAsync(qemuImg, image, format, "image", cancellationToken).ConfigureAwait(false);
        string? inUse = null;
        try
        {
            QemuImageLocks.RefuseIfHeldForWriting(image);
        }
        catch (OfflineExportException ex) when (ex.Kind == ErrorKind.ImageInUse)
        {
            inUse = ex.Message;
        }

        return new ImageReport(image, chain, Judge(chain), StructureProblem(chain), inUse, format is null ? FormatOrigin.Detected : FormatOrigin.Stated);
    }

    /// <summary>Pure: a verdict for every bitmap name in the chain, in order of first appearance from the top.</summary>
    public static IReadOnlyList<BitmapVerdict> Judge(IReadOnlyList<ImageInfo> chain)
    {
        var names = chain.SelectMany(l => l.Bitmaps).Select(b => b.Name).Distinct(StringComparer.Ordinal);
        return names.Select(name =>
        {
            try
            {
                ChainValidator.Validate(chain, [name]);
                return new BitmapVerdict(name, true, null);
            }
            catch (OfflineExportException ex)
            {
                return new BitmapVerdict(name, false, ex.Message);
            }
        }).ToList();
    }

    private static string? StructureProblem(IReadOnlyList<ImageInfo> chain)
    {
        try
        {
            ChainValidator.ValidateStructure(chain);
            return null;
        }
        catch (OfflineExportException ex)
        {
            return ex.Message;
        }
    }
}
