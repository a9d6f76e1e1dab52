using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// Checks that a path given as an image names something qemu can read as a disk: a regular file or a
/// block device. Runs before any qemu process: qemu-img would wait for ever on a FIFO's writer.
/// </summary>
public static class ImageFile
{
    /// <summary>Checks the external data file of every layer that has one, as <see cref="Check"/> checks an image.</summary>
    /// <exception cref="OfflineExportException">A data file is missing or not a disk image (InvalidImage).</exception>
    public static void CheckDataFiles(IEnumerable<ImageInfo> layers)
    {
        foreach (var layer in layers)
        {
            if (layer.DataFilePath is { } dataFile)
            {
                Check(dataFile, $"{layer.Filename}: its data file");
            }
        }
    }

    /// <summary>Refuses a missing path, a folder, a FIFO, a device other than a block device, a socket.</summary>
    /// <param name="path">The absolute path.</param>
    /// <param name="role">How errors name it: "image", "previous backup".</param>
    /// <exception cref="OfflineExportException">The path is not a disk image (InvalidImage).</exception>
    public static void Check(string path, string role)
    {
        FileIdentity? identity;
        try
        {
            identity = FileIdentity.Of(path);
        }
        catch (IOException ex)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, ex.Message, ex);
        }

        if (identity is null)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"{role} {path} does not exist");
        }

        var what = identity.Kind switch
        {
            FileKind.Regular or FileKind.BlockDevice => null,
            FileKind.Directory => "a folder",
            FileKind.Fifo => "a named pipe (FIFO)",
            FileKind.CharacterDevice => "a character device",
            FileKind.Socket => "a unix socket",
            _ => "a special file",
        };
        if (what is not null)
        {
            throw new OfflineExportException(ErrorKind.InvalidImage, $"{role} {path} is {what}, not a disk image; give a regular file or a block device");
        }
    }
}
