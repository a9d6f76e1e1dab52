using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed class ImageFileTests
{
    [Fact]
    public void Regular_file_is_accepted()
    {
        // Arrange
        var file = Path.GetTempFileName();
        try
        {
            // Act
            var ex = Record.Exception(() => ImageFile.Check(file, "image"));

            // Assert
            Assert.Null(ex);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Character_device_is_refused_as_not_a_disk_image()
    {
        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ImageFile.Check("/dev/null", "image"));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Equal("image /dev/null is a character device, not a disk image; give a regular file or a block device", ex.Message);
    }

    [Fact]
    public void Folder_is_refused()
    {
        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ImageFile.Check("/tmp", "previous backup"));

        // Assert
        Assert.Equal("previous backup /tmp is a folder, not a disk image; give a regular file or a block device", ex.Message);
    }

    [Fact]
    public void Missing_path_is_refused_as_missing()
    {
        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ImageFile.Check("/no/such/vda.qcow2", "image"));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Equal("image /no/such/vda.qcow2 does not exist", ex.Message);
    }
}
