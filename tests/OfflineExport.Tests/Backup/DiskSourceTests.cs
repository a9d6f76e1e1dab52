using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

public sealed class DiskSourceTests
{
    [Theory]
    [InlineData("/var/lib/vm/vda.qcow2", "vda")]
    [InlineData("/var/lib/vm/data.disk.qcow2", "data.disk")]
    [InlineData("/var/lib/vm/vdb", "vdb")]
    [InlineData("/var/lib/vm/vdc.raw", "vdc")]
    public void NameOf_is_the_file_name_without_its_extension(string image, string expected)
    {
        // Act
        var name = DiskSource.NameOf(image);

        // Assert
        Assert.Equal(expected, name);
    }
}
