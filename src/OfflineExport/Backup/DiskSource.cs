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
    /// <summary>The top image's identity now (null when it could not be examined, or in tests that do not care).</summary>
    public DiskIdentity? Identity { get; init; }

    /// <summary>The identities of the chain's layers, top first (those that could be examined): an older point's file still in the chain is an external snapshot of the same disk.</summary>
    public IReadOnlyList<DiskIdentity> LayerIdentities { get; init; } = [];

    /// <summary>The disk name for an image path: the file name without its extension ("vda.qcow2" → "vda").</summary>
    public static string NameOf(string image) => Path.GetFileNameWithoutExtension(image);
}
