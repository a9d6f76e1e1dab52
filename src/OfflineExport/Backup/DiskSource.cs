using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>A disk to back up, with the chain qemu-img reported for it.</summary>
/// <param name="Name">The disk's name ("vda").</param>
/// <param name="Image">The absolute path of its top image.</param>
/// <param name="Chain">Its backing chain, top first.</param>
public sealed record DiskSource(string Name, string Image, IReadOnlyList<ImageInfo> Chain)
{
    /// <summary>The disk name for an image path: the file name without its extension ("vda.qcow2" → "vda").</summary>
    public static string NameOf(string image) => Path.GetFileNameWithoutExtension(image);
}
