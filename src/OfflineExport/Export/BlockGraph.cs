using System.Text.Json.Nodes;
using OfflineExport.IO;
using OfflineExport.Nbd;
using OfflineExport.Qmp;

namespace OfflineExport.Export;

/// <summary>
/// Builds one export's block graph in qemu-storage-daemon over QMP: the source chain opened read-only
/// bottom-up with its recorded formats, the temporary bitmap merged from the checkpoints (or the one
/// checkpoint of the top layer as it is), the NBD server
/// and the source export; later the partial output, writable, with O_DIRECT when it pays, and its export.
/// </summary>
public sealed class BlockGraph
{
    /// <summary>Name of the read-only NBD export of the source chain.</summary>
    public const string SourceExport = "source";

    /// <summary>Name of the writable NBD export of the new backup.</summary>
    public const string TargetExport = "target";

    /// <summary>Name of the read-only NBD export of the previous backup (for <see cref="UntrackedChangeCheck"/>).</summary>
    public const string PreviousExport = "previous";

    private const string TargetNode = "target";
    private const string TargetFileNode = "target-file";
    private const string CreationFileNode = "creation-file";
    private const string CreationJob = "create-target";

    private readonly QmpClient _qmp;
    private readonly CacheDirectScope _cacheDirect;
    private readonly ulong _outputDirectMinimum;
    private readonly Action<string>? _log;

    /// <summary>Creates a builder over the daemon's monitor.</summary>
    /// <param name="qmp">The daemon's QMP connection.</param>
    /// <param name="cacheDirect">Which nodes open with O_DIRECT.</param>
    /// <param name="outputDirectMinimum">With <see cref="CacheDirectScope.Output"/>: the least work for which the output opens with O_DIRECT.</param>
    /// <param name="log">Receives why the output fell back to the page cache, or null.</param>
    public BlockGraph(QmpClient qmp, CacheDirectScope cacheDirect, ulong outputDirectMinimum, Action<string>? log)
    {
        _qmp = qmp;
        _cacheDirect = cacheDirect;
        _outputDirectMinimum = outputDirectMinimum;
        _log = log;
    }

    /// <summary>
    /// Opens the chain, merges the checkpoints into a temporary bitmap (for an incremental; one checkpoint
    /// held by the top layer alone is exported as it is), starts the NBD server on <paramref name="nbdSocket"/>
    /// and exports the top as <see cref="SourceExport"/>.
    /// </summary>
    /// <returns>The dirty-bitmap context to read the checkpoints' changes through, or null for a full export.</returns>
    public async Task<string?> ExportSourceAsync(ValidatedChain chain, string nbdSocket, CancellationToken cancellationToken)
    {
        await OpenChainAsync(chain.Layers, direct: _cacheDirect == CacheDirectScope.All, cancellationToken).ConfigureAwait(false);
        string? bitmap = null;
        if (chain.MergeSources is [var only] && only.Layer == chain.Top)
        {
            // One checkpoint, in the top layer: the merge would copy it as it is. Exported itself instead,
            // which saves allocating and walking a second bitmap of the disk's size (0.25 s at 16 TiB,
            // docs/PERFORMANCE.md). The node is read-only, so qemu accepts it enabled and never writes it.
            bitmap = only.Bitmap;
        }
        else if (chain.MergeSources.Count > 0)
        {
            bitmap = "offline-export-" + Guid.NewGuid().ToString("N")[..12];
            var sources = chain.MergeSources.Select(s => (s.Layer.NodeName, s.Bitmap));
            await _qmp.AddMergedBitmapAsync(chain.Top.NodeName, bitmap, (int)chain.Granularity, sources, cancellationToken).ConfigureAwait(false);
        }

        await _qmp.NbdServerStartAsync(nbdSocket, cancellationToken).ConfigureAwait(false);
        await _qmp.BlockExportAddNbdAsync(SourceExport, chain.Top.NodeName, writable: false, bitmap is null ? [] : [bitmap], cancellationToken).ConfigureAwait(false);
        return bitmap is null ? null : NbdProtocol.DirtyBitmapContextPrefix + bitmap;
    }

    /// <summary>
    /// Opens the previous backup's validated chain read-only, as the source's is opened, and exports its top as
    /// <see cref="PreviousExport"/>.
    /// </summary>
    public async Task ExportPreviousAsync(PreviousBackup previous, CancellationToken cancellationToken)
    {
        await OpenChainAsync(previous.Layers, direct: false, cancellationToken).ConfigureAwait(false);
        await _qmp.BlockExportAddNbdAsync(PreviousExport, previous.Layers[0].NodeName, writable: false, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a validated chain read-only, bottom-up, every layer with the format validated for it, its backing and its
    /// external data file named (or none): qemu opens nothing by itself, and every qcow2 layer caches its L2 tables whole.
    /// </summary>
    private async Task OpenChainAsync(IReadOnlyList<ChainLayer> layers, bool direct, CancellationToken cancellationToken)
    {
        ImageFile.CheckDataFiles(layers.Select(l => l.Info)); // the daemon would wait for ever on a FIFO's writer
        for (var i = layers.Count - 1; i >= 0; i--)
        {
            var layer = layers[i];
            await _qmp.BlockdevAddAsync(FileNode(layer.FileNodeName, layer.Path, readOnly: true, direct), cancellationToken).ConfigureAwait(false);
            var format = new JsonObject
            {
                ["driver"] = layer.Format,
                ["node-name"] = layer.NodeName,
                ["file"] = layer.FileNodeName,
                ["read-only"] = true,
            };
            if (layer.Format == "qcow2")
            {
                format["backing"] = i + 1 < layers.Count ? layers[i + 1].NodeName : null;
                CacheWholeL2Tables(format, layer.Info.ClusterSize);
                if (layer.DataFilePath is { } dataFile)
                {
                    // Named here, resolved from the layer's folder: qemu would open the header's name from its own working folder.
                    await _qmp.BlockdevAddAsync(FileNode(layer.DataFileNodeName, dataFile, readOnly: true, direct), cancellationToken).ConfigureAwait(false);
                    format["data-file"] = layer.DataFileNodeName;
                }
            }

            try
            {
                await _qmp.BlockdevAddAsync(format, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpException ex) when (Qemu.QemuImg.IsLockError(ex.Description))
            {
                // qemu's message names no file: this layer is the one a writer holds (a lower layer of the disk, or of the previous backup).
                throw OfflineExportException.ImageInUse(layer.Path, ex.Description);
            }
        }
    }

    /// <summary>
    /// Writes the qcow2 into the partial output, the empty file <see cref="PartialOutput.CreateEmpty"/> made,
    /// by the daemon's <c>blockdev-create</c> job: byte for byte what <c>qemu-img create</c> writes, without
    /// starting a process. Its backing file is recorded as given, with format qcow2.
    /// </summary>
    /// <exception cref="OfflineExportException">The image cannot be created (OutputProblem).</exception>
    /// <param name="target">The output.</param>
    /// <param name="virtualSize">The disk's size.</param>
    /// <param name="layout">Its cluster size and subclusters (<see cref="OutputLayout.For(IReadOnlyList{ChainLayer})"/>).</param>
    /// <param name="opened">Called once the daemon has opened the file by name, before anything is written: throws when it is not ours.</param>
    /// <param name="timeout">How long the job may take.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task CreateTargetAsync(OutputTarget target, long virtualSize, OutputLayout layout, Action opened, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var partial = target.Partial.Path;
        var image = new JsonObject
        {
            ["driver"] = "qcow2",
            ["file"] = CreationFileNode,
            ["size"] = virtualSize,
            ["cluster-size"] = layout.ClusterSize,
        };
        if (layout.ExtendedL2)
        {
            image["extended-l2"] = true;
        }
        if (target.RecordedBacking is { } backing)
        {
            image["backing-file"] = backing;
            image["backing-fmt"] = "qcow2";
        }

        await _qmp.BlockdevAddAsync(FileNode(CreationFileNode, partial, readOnly: false, direct: false, unflushed: true), cancellationToken).ConfigureAwait(false);
        opened();
        try
        {
            await _qmp.BlockdevCreateAsync(CreationJob, image, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpException ex)
        {
            throw new OfflineExportException(ErrorKind.OutputProblem, $"cannot create {target.Partial.Output}: {ex.Description}", ex);
        }

        // Closed again: the target opens below with the cache mode its measured work asks for.
        await _qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = CreationFileNode }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens the partial output writable and exports it as <see cref="TargetExport"/>. Its backing file (the
    /// previous backup) opens from its header, with the format we recorded there: partial-cluster writes
    /// need it for copy-on-write. <paramref name="work"/> (bytes to write) decides whether O_DIRECT pays.
    /// </summary>
    /// <param name="partial">The partial output, formatted.</param>
    /// <param name="work">Bytes to write.</param>
    /// <param name="clusterSize">The cluster size it was created with.</param>
    /// <param name="opened">Called once the daemon has opened the file by name, before its qcow2 opens writable: throws when it is not ours.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    public async Task ExportTargetAsync(string partial, ulong work, int clusterSize, Action opened, CancellationToken cancellationToken)
    {
        var direct = _cacheDirect == CacheDirectScope.All
            || (_cacheDirect == CacheDirectScope.Output && work >= _outputDirectMinimum);
        try
        {
            await _qmp.BlockdevAddAsync(FileNode(TargetFileNode, partial, readOnly: false, direct, unflushed: true), cancellationToken).ConfigureAwait(false);
        }
        catch (QmpException ex) when (_cacheDirect == CacheDirectScope.All && ex.Description.Contains("O_DIRECT", StringComparison.Ordinal))
        {
            throw new OfflineExportException(ErrorKind.OutputProblem,
                $"{ex.Description}; Daemon:CacheDirect=all needs O_DIRECT on the output's file system (output or none work everywhere)", ex);
        }
        catch (QmpException ex) when (direct && _cacheDirect == CacheDirectScope.Output)
        {
            // Some file systems (ramfs, for one) refuse O_DIRECT: write through the page cache there.
            // A failure that has nothing to do with O_DIRECT fails the retry the same way and is reported then.
            _log?.Invoke($"output: O_DIRECT refused ({ex.Description}); writing through the page cache");
            await _qmp.BlockdevAddAsync(FileNode(TargetFileNode, partial, readOnly: false, direct: false, unflushed: true), cancellationToken).ConfigureAwait(false);
        }

        opened();
        var target = new JsonObject
        {
            ["driver"] = "qcow2",
            ["node-name"] = TargetNode,
            ["file"] = TargetFileNode,
            ["read-only"] = false,
        };
        CacheWholeL2Tables(target, clusterSize);
        await _qmp.BlockdevAddAsync(target, cancellationToken).ConfigureAwait(false);
        await _qmp.BlockExportAddNbdAsync(TargetExport, TargetNode, writable: true, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Has qemu cache a qcow2 node's L2 tables whole. qemu 7.2 as Debian ships it uses 4 KiB slices of a table
    /// (strace: a new L2 table of the output written as 16 writes of 4 KiB), and one block-status answer covers at
    /// most one slice, 32 MiB of disk at 64 KiB clusters: half a million calls in the daemon to walk 16 TiB.
    /// Whole tables: 0.72 of the time of the same 64 MiB incremental at 2 TiB and 16 TiB (docs/PERFORMANCE.md).
    /// </summary>
    private static void CacheWholeL2Tables(JsonObject qcow2Node, int? clusterSize)
    {
        if (clusterSize is { } size)
        {
            qcow2Node["l2-cache-entry-size"] = size;
        }
    }

    /// <param name="nodeName">The node's name.</param>
    /// <param name="path">The file.</param>
    /// <param name="readOnly">Opened read-only.</param>
    /// <param name="direct">Opened with O_DIRECT.</param>
    /// <param name="unflushed">
    /// qemu never asks the kernel to write the file out (cache.no-flush): for the partial output only (while it is
    /// created and while it is written), which is deleted unless the run ends well, and fsynced by the publish before its rename (<see cref="PartialOutput.Publish"/>).
    /// qcow2's ordering flushes buy nothing there, and with many new L2 tables they were hundreds of fdatasyncs.
    /// </param>
    private static JsonObject FileNode(string nodeName, string path, bool readOnly, bool direct, bool unflushed = false)
    {
        var node = new JsonObject
        {
            // A block device as the disk (an LVM volume) is read with host_device; outputs are always files.
            ["driver"] = readOnly ? Qemu.QemuImg.Protocol(path) : "file",
            ["node-name"] = nodeName,
            ["filename"] = path,
            ["read-only"] = readOnly,
        };
        var cache = new JsonObject();
        if (direct)
        {
            cache["direct"] = true;
        }

        if (unflushed)
        {
            cache["no-flush"] = true;
        }

        if (cache.Count > 0)
        {
            node["cache"] = cache;
        }

        return node;
    }
}
