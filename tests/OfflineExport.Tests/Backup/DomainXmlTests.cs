using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Tests.Backup;

public sealed class DomainXmlTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Write(string devices)
    {
        var path = Path.Combine(_folder.Path, "web1.xml");
        File.WriteAllText(path, $"<domain type='kvm'><name>web1</name><devices>{devices}</devices></domain>");
        return path;
    }

    [Fact]
    public void Driver_type_is_the_format_of_each_file_disk()
    {
        // Arrange
        var xml = Write("""
            <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/vm/vda.img'/><target dev='vda'/></disk>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vm/vdb.qcow2'/><target dev='vdb'/></disk>
            """);

        // Act
        var disks = DomainXml.Read(xml);

        // Assert
        Assert.Equal(["raw", "qcow2"], disks.Select(d => d.Format));
    }

    [Theory]
    [InlineData("<driver name='qemu'/>")]
    [InlineData("<driver name='qemu' type=''/>")]
    [InlineData("")]
    public void Disk_without_a_driver_type_has_no_format(string driver)
    {
        // Arrange
        var xml = Write($"<disk type='file' device='disk'>{driver}<source file='/vm/vda.img'/><target dev='vda'/></disk>");

        // Act
        var disk = Assert.Single(DomainXml.Read(xml));

        // Assert
        Assert.Equal("/vm/vda.img", disk.Image);
        Assert.Null(disk.Format);
    }

    [Fact]
    public void Disk_of_an_unsupported_format_refuses_the_domain_naming_it()
    {
        // Arrange
        var xml = Write("""
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vm/vda.qcow2'/><target dev='vda'/></disk>
            <disk type='file' device='disk'><driver name='qemu' type='vmdk'/><source file='/vm/vdb.vmdk'/><target dev='vdb'/></disk>
            """);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => DomainXml.Read(xml));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Equal($"disk vdb of domain XML {xml} is a vmdk image (/vm/vdb.vmdk); offline-export reads only raw and qcow2 disks, and will not back up the domain without it", ex.Message);
    }

    [Fact]
    public void Skipped_cdrom_of_another_format_does_not_refuse_the_domain()
    {
        // Arrange
        var xml = Write("""
            <disk type='file' device='cdrom'><driver name='qemu' type='iso'/><source file='/iso/d.iso'/><target dev='sda'/></disk>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vm/vda.qcow2'/><target dev='vda'/></disk>
            """);

        // Act
        var disks = DomainXml.Read(xml);

        // Assert
        Assert.Equal([null, "qcow2"], disks.Select(d => d.Format));
        Assert.Equal("a cdrom", disks[0].Skipped);
    }
}
