using OfflineExport.Export;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>A disk to back up, with the chain qemu-img reported for it.</summary>
/// <param name="Name">The disk's name ("vda").</param>
/// <param name="Image">The absolute path of its top image.</param>
/// <param name="Chain">Its backing chain, top first, the top read as the format the run decided.</param>
/// <param name="FormatOrigin">Who decided the top's format: the caller, the backup folder, or qemu's guess.</param>
public sealed record DiskSource(string Name, string Image, IReadOnlyList<ImageInfo> Chain, FormatOrigin FormatOrigin = FormatOrigin.Stated)
{
    /// <summary>The disk name for an image path: the file name without its extension ("vda.qcow2" → "vda").</summary>
    public static string NameOf(string image) => Path.GetFileNameWithoutExtension(image);
}
