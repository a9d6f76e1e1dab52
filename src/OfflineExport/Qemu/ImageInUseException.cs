namespace OfflineExport.Qemu;

/// <summary>Another process (a running VM, most likely) holds the image open for writing.</summary>
public sealed class ImageInUseException : Exception
{
    /// <summary>Creates the exception for <paramref name="image"/>.</summary>
    public ImageInUseException(string image, string detail)
        : base($"image {image} is in use by another process (is the VM still running? shut it down first): {detail}")
    {
        Image = image;
    }

    /// <summary>The image that is locked.</summary>
    public string Image { get; }
}
