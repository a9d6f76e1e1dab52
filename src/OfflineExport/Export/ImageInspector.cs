using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>Reads a disk's chain and judges every checkpoint in it by the same rules an export applies.</summary>
public sealed class ImageInspector
{
    private readonly ExportOptions _options;

    /// <summary>Creates an inspector with the given tools.</summary>
    public ImageInspector(ExportOptions options) => _options = options;

    /// <summary>Inspects <paramref name="image"/> without changing it.</summary>
    public async Task<ImageReport> InspectAsync(string image, CancellationToken cancellationToken)
    {
        var qemuImg = _options.CreateQemuImg();
        image = Path.GetFullPath(image);
        if (!File.Exists(image))
        {
            throw new ExportException(ExportErrorKind.InvalidImage, $"image {image} does not exist");
        }

        var chain = await ChainReader.ReadAsync(qemuImg, image, "image", cancellationToken).ConfigureAwait(false);
        string? inUse = null;
        try
        {
            await qemuImg.EnsureNotInUseAsync(image, chain[0].Format, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageInUseException ex)
        {
            inUse = ex.Message;
        }

        return new ImageReport(image, chain, Judge(chain), StructureProblem(chain), inUse);
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
            catch (ExportException ex)
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
        catch (ExportException ex)
        {
            return ex.Message;
        }
    }
}
