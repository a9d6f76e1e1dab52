using System.Text.Json;
using OfflineExport.Processes;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>Reads an image's backing chain and turns qemu-img's failures into one-line, user-facing errors.</summary>
public static class ChainReader
{
    /// <summary>
    /// The chain of <paramref name="image"/>, top first, the top opened as <paramref name="format"/>
    /// (null: probed); <paramref name="role"/> names it in errors ("image", "previous backup").
    /// </summary>
    public static async Task<IReadOnlyList<ImageInfo>> ReadAsync(QemuImg qemuImg, string image, string? format, string role, CancellationToken cancellationToken)
    {
        try
        {
            return await qemuImg.GetBackingChainAsync(image, format, cancellationToken).ConfigureAwait(false);
        }
        catch (QemuImgException ex)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"cannot open {role} {image}: {QemuErrorText(ex.StandardError)}", ex);
        }
        catch (JsonException ex)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"cannot read qemu-img's description of {image}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// qemu's last error lines without the "qemu-img: " prefix, and without the repetition qemu adds
    /// when both the format and the protocol layer fail ("Could not open 'x': Could not open 'x': …").
    /// </summary>
    public static string QemuErrorText(string standardError)
    {
        var line = TextTail.LastLines(standardError, 2);
        if (line.StartsWith("qemu-img: ", StringComparison.Ordinal))
        {
            line = line["qemu-img: ".Length..];
        }

        var parts = line.Split(": ");
        var kept = parts.Where((part, i) => i == 0 || part != parts[i - 1]);
        return string.Join(": ", kept);
    }
}
