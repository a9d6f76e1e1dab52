using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// <c>checkpoints DIR [--remove-all]</c>: which checkpoints in each disk's layers belong to this backup folder,
/// and, when a folder is retired, their removal from every layer (the points never need them: they are
/// only the start of the next incremental). Other folders', libvirt's and anyone else's are never touched.
/// </summary>
public sealed class CheckpointInventory
{
    private readonly ExportOptions _options;

    /// <summary>Creates an inventory with the given tools.</summary>
    public CheckpointInventory(ExportOptions options) => _options = options;

    /// <summary>Lists the checkpoints of every disk of the folder.</summary>
    public Task<IReadOnlyList<DiskCheckpoints>> ListAsync(string folder, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => ReadAsync(Settled(FolderPath.Full(folder), save: false), cancellationToken));

    /// <summary>Removes every checkpoint of this folder from every layer of its disks; returns "disk: name" of each one removed.</summary>
    public Task<(IReadOnlyList<string> Removed, IReadOnlyList<string> Warnings)> RemoveAllAsync(string folder, CancellationToken cancellationToken) =>
        FailureTranslation.RunAsync(() => RemoveAsync(FolderPath.Full(folder), cancellationToken));

    private async Task<(IReadOnlyList<string> Removed, IReadOnlyList<string> Warnings)> RemoveAsync(string folder, CancellationToken cancellationToken)
    {
        ManifestStore.LoadExisting(folder);
        // No backup may add a checkpoint meanwhile: it would be left, or removed under the run that counts on it.
        using var folderLock = BackupFolderLock.Acquire(folder);
        ForgetJournal.TryFinishPending(folder, folderLockHeld: true);
        var manifest = Settled(folder, save: true);
        var qemuImg = _options.CreateQemuImg();
        var warnings = new List<string>();
        var removed = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var disk in manifest.Disks)
        {
            var libvirts = disk.Points.Where(p => p.ImportedFrom is not null).Select(p => p.CheckpointCreated).OfType<string>().ToHashSet(StringComparer.Ordinal);
            bool Ours(Qemu.BitmapInfo bitmap) => OwnerOf(bitmap.Name, manifest, disk) == CheckpointOwner.ThisFolder && !libvirts.Contains(bitmap.Name);
            foreach (var (name, layer) in await CheckpointRemoval.RemoveAsync(qemuImg, disk, Ours, warnings, cancellationToken).ConfigureAwait(false))
            {
                removed.Add(CheckpointRemoval.Describe(disk.Name, name, layer));
                names.Add(name);
            }
        }

        await LibvirtCheckpointRecords.ForgetForFolderAsync(folder, _options.LibvirtUri, _options.Log, names, warnings, cancellationToken).ConfigureAwait(false);

        return (removed, warnings);
    }

    private async Task<IReadOnlyList<DiskCheckpoints>> ReadAsync(BackupManifest manifest, CancellationToken cancellationToken)
    {
        var qemuImg = _options.CreateQemuImg();
        var result = new List<DiskCheckpoints>();
        foreach (var disk in manifest.Disks)
        {
            if (disk.KnownFormat == ImageFormats.Raw)
            {
                result.Add(new DiskCheckpoints(disk.Name, disk.Source, [], null));
                continue;
            }

            try
            {
                ImageFile.Check(disk.Source, "image");
                var chain = await qemuImg.GetBackingChainAsync(disk.Source, disk.KnownFormat, cancellationToken).ConfigureAwait(false);
                var imageFolder = Path.GetDirectoryName(disk.Source)!;
                var entries = chain.SelectMany(layer => layer.Bitmaps.Select(bitmap => new CheckpointEntry(
                    bitmap.Name,
                    Path.GetFullPath(layer.Filename, imageFolder),
                    OwnerOf(bitmap.Name, manifest, disk),
                    disk.Points.FirstOrDefault(p => p.CheckpointCreated == bitmap.Name)?.Number,
                    bitmap.Name == disk.CurrentCheckpoint,
                    bitmap.Flags))).ToList();
                result.Add(new DiskCheckpoints(disk.Name, disk.Source, entries, null));
            }
            catch (Exception ex) when (ex is OfflineExportException or QemuImgException)
            {
                result.Add(new DiskCheckpoints(disk.Name, disk.Source, [], ex is QemuImgException q ? ChainReader.QemuErrorText(q.StandardError) : ex.Message));
            }
        }

        return result;
    }

    /// <summary>The manifest with a copy's identity settled (a copy's inherited tag is the original's), saved when asked.</summary>
    private static BackupManifest Settled(string folder, bool save)
    {
        var (manifest, copyNote) = BackupFolderIdentity.SettleCopy(ManifestStore.LoadExisting(folder), FileIdentity.Of(folder), folder);
        if (copyNote is not null && save)
        {
            ManifestStore.Save(folder, manifest);
        }

        return manifest;
    }

    /// <summary>Whose <paramref name="name"/> is: recorded by the disk's points or tagged with this folder's id; another folder's; or not this tool's.</summary>
    private static CheckpointOwner OwnerOf(string name, BackupManifest manifest, DiskRecord disk)
    {
        var recorded = disk.Points.Any(p => p.CheckpointCreated == name && p.ImportedFrom is null) || (disk.CurrentCheckpoint == name && disk.Latest?.ImportedFrom is null);
        if (recorded && CheckpointNames.BelongsTo(name, manifest.Folder))
        {
            return CheckpointOwner.ThisFolder;
        }

        // Without a folder id only what the points record is provably this folder's.
        if (manifest.Folder is not null && CheckpointNames.BelongsTo(name, manifest.Folder))
        {
            return CheckpointOwner.ThisFolder;
        }

        return CheckpointNames.IsOwn(name) ? CheckpointOwner.OtherFolder : CheckpointOwner.Foreign;
    }
}
