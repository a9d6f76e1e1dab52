namespace OfflineExport.Backup;

/// <summary>One checkpoint (persistent dirty bitmap) found in a layer of a disk.</summary>
/// <param name="Name">The bitmap's name.</param>
/// <param name="Layer">The layer's file (the top image or one below it).</param>
/// <param name="Owner">Whose it is.</param>
/// <param name="Point">The point that started it, when this folder's points record it.</param>
/// <param name="Current">True for the checkpoint the disk's next incremental starts from.</param>
/// <param name="Flags">qemu's flags: "auto" (recording), "in-use" (not closed cleanly: useless).</param>
public sealed record CheckpointEntry(string Name, string Layer, CheckpointOwner Owner, int? Point, bool Current, IReadOnlyList<string> Flags)
{
    /// <summary>True when this folder would remove it with <c>--remove-all</c>: its own, and not libvirt's checkpoint a seed started from.</summary>
    public bool Removable => Owner == CheckpointOwner.ThisFolder;
}
