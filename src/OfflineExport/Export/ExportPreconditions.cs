using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>The checks of an export's request, chain, previous backup and output, made before any work; each refusal is one line.</summary>
public static class ExportPreconditions
{
    /// <summary>The request's own consistency, and the files it names, before any qemu process.</summary>
    public static void CheckRequest(ExportRequest request, ExportPaths paths)
    {
        if (request.Bitmaps.Count > 0 && paths.Backing is null)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--backing PREVIOUS is required with --bitmap: an incremental backup is an overlay on the previous backup");
        }

        if (request.Bitmaps.Count == 0 && paths.Backing is not null)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "--backing needs --bitmap: a full export has no backing file");
        }

        if (request.Bitmaps.Any(string.IsNullOrWhiteSpace))
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "a bitmap name is empty");
        }

        ImageFormats.CheckStated(request.Format);
        // Before any qemu process: qemu-img would wait for ever for a FIFO's writer.
        ImageFile.Check(paths.Image, "image");
        if (request.Format is null)
        {
            CheckDetectedHeader(paths.Image);
        }

        if (paths.Backing is not null)
        {
            ImageFile.Check(paths.Backing, "previous backup");
        }

        // A dry run says what the real run would refuse; only a folder still to be made is let pass.
        if (!request.DryRun || Directory.Exists(Path.GetDirectoryName(paths.Output)))
        {
            OutputFile.CheckCanCreate(paths.Output, request.Force);
        }
    }

    /// <summary>qemu probes any file it cannot recognise as raw; a real raw disk is a whole number of sectors.</summary>
    public static void CheckLooksLikeDisk(ImageInfo top, string image)
    {
        if (top.Format == "raw" && new FileInfo(image).Length % 512 != 0)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"{image} is not a disk image (not qcow2, and its size is not a multiple of 512 bytes)");
        }
    }

    /// <summary>
    /// A detected format is only trusted for a single file: a guest can write a qcow2 header into its raw disk,
    /// and with a backing file named there, the backup would carry a host file's content (and the tool would
    /// write into what is really the guest's data). A chain is backed up only when its format is stated.
    /// </summary>
    /// <param name="top">The top layer as qemu-img read it.</param>
    /// <param name="image">The image as the user named it.</param>
    /// <param name="detected">True when the format was detected, not stated (nor recorded by a backup folder).</param>
    /// <exception cref="OfflineExportException">A detected qcow2 names a backing file or an external data file (InvalidImage).</exception>
    public static void CheckDetectedFormat(ImageInfo top, string image, bool detected)
    {
        if (!detected || top.Format != ImageFormats.Qcow2)
        {
            return;
        }

        string? other;
        try
        {
            other = top.HasBacking ? $"backing file '{top.BackingFilename}'"
                : Qcow2Header.UsesExternalDataFile(image) ? "an external data file" : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"cannot read the header of {image}: {IoErrorText.Reason(ex)}", ex);
        }

        if (other is not null)
        {
            throw DetectedWithOtherFile(image, other);
        }
    }

    /// <summary>
    /// Before qemu probes a file whose format was not stated: its first bytes are read here first
    /// (<see cref="ProbeReferences"/>). A qcow2 header naming a backing file or an external data file is refused as
    /// <see cref="CheckDetectedFormat"/> refuses it, and a qcow, QED or VMDK header (formats that name other files,
    /// and which offline-export does not read) at once: qemu-img would open the files such a header names, and a guest
    /// writes these bytes in a raw disk (a FIFO named there would hang qemu-img, a device would be opened). A file
    /// that cannot be read is left to qemu-img, which says why.
    /// </summary>
    /// <exception cref="OfflineExportException">The header names another file (InvalidImage).</exception>
    public static void CheckDetectedHeader(string image)
    {
        var reference = ProbeReferences.OfReadable(image);
        if (reference is { Format: ImageFormats.Qcow2 } qcow2)
        {
            throw DetectedWithOtherFile(image, qcow2.What);
        }

        if (reference is not null)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage,
                $"{image} looks like a {reference.Format} image, but its format was detected, not stated: offline-export reads raw and qcow2 only, and qemu would open {reference.What}, which a guest can write into a raw disk; nothing was read. State the format: --format raw for a raw disk");
        }
    }

    private static OfflineExportException DetectedWithOtherFile(string image, string other) => new(ErrorKind.InvalidImage,
        $"{image} looks like a qcow2 with {other}, but its format was detected, not stated: a guest can write such a header into a raw disk to read a host file, so nothing was copied from it. State the format: --format qcow2 for a real qcow2, --format raw for a raw disk");

    /// <summary>By identity: OUTPUT through a symlinked folder or file is still the layer it names.</summary>
    public static void CheckOutputOutsideChain(string output, IReadOnlyList<ImageInfo> chain, string what)
    {
        if (SameFile.FindIn(output, chain.Select(l => l.Filename)) is { } layer)
        {
            var alias = string.Equals(Path.GetFullPath(layer), output, StringComparison.Ordinal) ? string.Empty : $" (it is {layer} by another name)";
            throw new OfflineExportException(ErrorKind.OutputProblem, $"output {output} is part of the {what}{alias}; refusing to overwrite it");
        }
    }

    /// <summary>The previous backup of an incremental: a valid qcow2 chain of the disk's size, apart from the disk's own chain and from OUTPUT.</summary>
    /// <returns>The previous backup with its validated chain.</returns>
    public static PreviousBackup CheckBacking(IReadOnlyList<ImageInfo> chain, ExportPaths paths, ValidatedChain source)
    {
        var backing = paths.Backing!;
        var layers = ChainValidator.ValidateStructure(chain, PreviousBackup.PrefixForNodes);
        if (chain[0].Format != "qcow2")
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"previous backup {backing} is a {chain[0].Format} image; it must be a qcow2");
        }

        if (chain[0].VirtualSize != source.VirtualSize)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage,
                $"previous backup {backing} is {chain[0].VirtualSize} bytes but the disk is {source.VirtualSize} bytes; take a full export");
        }

        CheckOutputOutsideChain(paths.Output, chain, "previous backup's chain");
        // The name recorded is relative to OUTPUT's folder as spelled; the kernel resolves its ".." from where
        // a symlinked folder really is, so it could lead to another file (or none) when the backup is opened.
        // A dry run may name a folder that does not exist yet: nothing will be recorded, and nothing to resolve from.
        var recorded = Path.Combine(paths.OutputFolder, paths.BackingAsRecorded!);
        if (Directory.Exists(paths.OutputFolder) && !FileIdentity.AreSameFile(recorded, backing))
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest,
                $"the backing file name {paths.Output} would record, {paths.BackingAsRecorded}, leads from {paths.OutputFolder} to {(FileIdentity.Of(recorded) is null ? "no file" : "another file")}, not to {backing} (a symlinked folder on the way?); give --backing and OUTPUT without symlinked folders");
        }

        // An overlay on the disk itself (or on a layer of it) is no backup: the next write to the disk changes it.
        foreach (var layer in chain)
        {
            if (SameFile.FindIn(layer.Filename, source.Layers.Select(l => l.Path)) is { } own)
            {
                throw new OfflineExportException(ErrorKind.InvalidRequest,
                    $"previous backup {backing} is not a backup: {(layer == chain[0] ? "it" : $"its chain holds {layer.Filename}, which")} is {own}, a layer of the image's own chain; give --backing the previous backup's file");
            }
        }

        return new PreviousBackup(backing, layers);
    }
}
