using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// <c>backup --seed DISK=FILE --since-checkpoint NAME</c>: a full backup libvirt's push backup wrote at its
/// checkpoint NAME becomes point 0 of a disk new to the folder, so this run's point is the incremental since
/// NAME — the changes since libvirt's last live backup, not the whole disk again.
/// </summary>
public static class BackupSeeds
{
    /// <summary>A seed to copy into the folder as its disk's point 0.</summary>
    /// <param name="Source">The file libvirt wrote.</param>
    /// <param name="File">Point 0's file name in the folder.</param>
    public readonly record struct Import(string Source, string File);

    /// <summary>
    /// The manifest with each seeded disk's point 0 (not yet copied: see the imports), after checking every
    /// seed: a disk new to the folder, a standalone qcow2 of the disk's size.
    /// </summary>
    public static async Task<(BackupManifest Manifest, IReadOnlyList<Import> Imports)> ApplyAsync(
        QemuImg qemuImg, BackupManifest manifest, IReadOnlyList<DiskSource> disks, BackupRequest request, CancellationToken cancellationToken)
    {
        if (request.Seeds.Count == 0)
        {
            return (manifest, []);
        }

        if (request.DryRun)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--seed does not go with --dry-run: the incremental on a seed needs the seed in the folder");
        }

        var checkpoint = request.SinceCheckpoint
            ?? throw new OfflineExportException(ErrorKind.InvalidRequest, "--seed needs --since-checkpoint NAME: the checkpoint the seed was taken at");
        var imports = new List<Import>();
        foreach (var (name, file) in request.Seeds)
        {
            var disk = disks.FirstOrDefault(d => d.Name == name)
                ?? throw new OfflineExportException(ErrorKind.InvalidRequest, $"--seed names disk '{name}', which this run does not back up; its disks: {string.Join(", ", disks.Select(d => d.Name))}");
            if (manifest.Disk(name) is { Points.Count: > 0 })
            {
                throw new OfflineExportException(ErrorKind.InvalidRequest, $"--seed {name}: the folder already has points for {name}; a seed starts a disk's first chain");
            }

            var path = Path.GetFullPath(file);
            ImageFile.Check(path, "seed");
            RefuseExternalData(path);
            // libvirt's push backup writes a qcow2: opened as one, never probed.
            var chain = await ChainReader.ReadAsync(qemuImg, path, "qcow2", "seed", cancellationToken).ConfigureAwait(false);
            ChainValidator.ValidateStructure(chain);
            if (chain.Count != 1)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage, $"seed {path} has a backing file ({chain[0].BackingFilename}); a seed must be a full, standalone backup");
            }

            if (chain[0].VirtualSize != disk.Chain[0].VirtualSize)
            {
                throw new OfflineExportException(ErrorKind.InvalidImage, $"seed {path} is {chain[0].VirtualSize} bytes but disk {name} is {disk.Chain[0].VirtualSize} bytes");
            }

            var import = new Import(path, $"{name}.0.full.qcow2");
            imports.Add(import);
            var taken = File.GetLastWriteTimeUtc(path);
            var point = new PointRecord
            {
                Number = 0,
                File = import.File,
                Level = PointLevel.Full,
                CheckpointCreated = checkpoint,
                Source = disk.Image,
                Disk = disk.Identity,
                VirtualSize = chain[0].VirtualSize,
                StartTime = taken,
                EndTime = taken,
                ToolVersion = ToolInfo.NameAndVersion,
                ImportedFrom = path,
            };
            manifest = manifest.WithDisk(new DiskRecord
            {
                Name = name,
                Source = disk.Image,
                Format = disk.Chain[0].Format,
                VirtualSize = chain[0].VirtualSize,
                CurrentCheckpoint = checkpoint,
                Points = [point],
            });
        }

        return (manifest, imports);
    }

    /// <summary>Refuses a seeded disk the run would not back up as an incremental since the seed: the seed would be unused.</summary>
    public static void RequireIncrementals(IReadOnlyList<DiskPlan> plans, BackupRequest request)
    {
        foreach (var plan in plans.Where(p => request.Seeds.ContainsKey(p.Disk.Name)))
        {
            if (plan.Level != PointLevel.Inc)
            {
                throw new OfflineExportException(ErrorKind.InvalidCheckpoint, $"--seed {plan.Disk.Name}: no incremental since checkpoint {request.SinceCheckpoint} is possible ({plan.Reason}); nothing was written");
            }
        }
    }

    /// <summary>A seed whose clusters live in an external data file would have them read from a file outside any check.</summary>
    private static void RefuseExternalData(string path)
    {
        bool external;
        try
        {
            external = Qcow2Header.UsesExternalDataFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"cannot read seed {path}: {IoErrorText.Reason(ex)}", ex);
        }

        if (external)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage,
                $"seed {path} keeps its data in an external data file; a seed must be a full, standalone qcow2 (make one with qemu-img convert -O qcow2); nothing was read from the data file");
        }
    }
}
