using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed class ExportRequestTests
{
    [Fact]
    public void No_bitmaps_is_a_full_export()
    {
        // Arrange
        var request = new ExportRequest { Image = "/vm/top.qcow2", Output = "/backup/full.qcow2" };

        // Act
        var mode = request.Mode;

        // Assert
        Assert.Equal(ExportMode.Full, mode);
    }

    [Fact]
    public void One_bitmap_is_an_incremental_export()
    {
        // Arrange
        var request = new ExportRequest { Image = "/vm/top.qcow2", Output = "/backup/inc.qcow2", Bitmaps = ["b1"], Backing = "/backup/full.qcow2" };

        // Act
        var mode = request.Mode;

        // Assert
        Assert.Equal(ExportMode.Incremental, mode);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Several_bitmaps_are_a_differential_export(int count)
    {
        // Arrange
        var names = Enumerable.Range(1, count).Select(i => $"b{i}").ToArray();
        var request = new ExportRequest { Image = "/vm/top.qcow2", Output = "/backup/diff.qcow2", Bitmaps = names, Backing = "/backup/full.qcow2" };

        // Act
        var mode = request.Mode;

        // Assert
        Assert.Equal(ExportMode.Differential, mode);
    }

    [Fact]
    public void The_same_bitmap_named_twice_is_still_an_incremental_export()
    {
        // Arrange
        var request = new ExportRequest { Image = "/vm/top.qcow2", Output = "/backup/inc.qcow2", Bitmaps = ["b1", "b1"], Backing = "/backup/full.qcow2" };

        // Act
        var mode = request.Mode;

        // Assert
        Assert.Equal(ExportMode.Incremental, mode);
    }
}
