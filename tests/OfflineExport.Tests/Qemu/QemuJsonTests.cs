using System.Text.Json;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

public sealed class QemuJsonTests
{
    [Fact]
    public void Backing_chain_array_is_read_top_first_with_every_layer()
    {
        // Arrange
        var json = QemuInfoSamples.ThreeLayerChain;

        // Act
        var chain = QemuJson.ParseChain(json);

        // Assert
        Assert.Equal(3, chain.Count);
        Assert.Equal(["/var/lib/vm/top.qcow2", "/var/lib/vm/mid.qcow2", "/var/lib/vm/base.raw"], chain.Select(l => l.Filename));
        Assert.Equal(["qcow2", "qcow2", "raw"], chain.Select(l => l.Format));
        Assert.All(chain, l => Assert.Equal(10737418240L, l.VirtualSize));
    }

    [Fact]
    public void Kebab_case_fields_of_the_top_layer_are_read()
    {
        // Arrange
        var json = QemuInfoSamples.ThreeLayerChain;

        // Act
        var top = QemuJson.ParseChain(json)[0];

        // Assert
        Assert.Equal(65536, top.ClusterSize);
        Assert.Equal(200704L, top.ActualSize);
        Assert.Equal("mid.qcow2", top.BackingFilename);
        Assert.Equal("/var/lib/vm/mid.qcow2", top.FullBackingFilename);
        Assert.Equal("qcow2", top.BackingFilenameFormat);
        Assert.False(top.DirtyFlag);
        Assert.True(top.HasBacking);
        Assert.NotNull(top.FormatSpecific);
        Assert.Equal("qcow2", top.FormatSpecific.Type);
        Assert.Equal("1.1", top.FormatSpecific.Data?.Compat);
        Assert.False(top.FormatSpecific.Data?.Corrupt);
        Assert.False(top.IsCorrupt);
    }

    [Fact]
    public void Bitmaps_under_format_specific_data_are_read_with_name_granularity_and_flags()
    {
        // Arrange
        var json = QemuInfoSamples.ThreeLayerChain;

        // Act
        var chain = QemuJson.ParseChain(json);

        // Assert
        var top = chain[0];
        Assert.Equal(["b1", "b2"], top.Bitmaps.Select(b => b.Name));
        Assert.Equal([65536L, 131072L], top.Bitmaps.Select(b => b.Granularity));
        Assert.All(top.Bitmaps, b => Assert.Equal(["auto"], b.Flags));
        Assert.All(top.Bitmaps, b => Assert.True(b.IsEnabled));
        Assert.All(top.Bitmaps, b => Assert.False(b.IsInUse));
        var midBitmap = Assert.Single(chain[1].Bitmaps);
        Assert.Equal("b1", midBitmap.Name);
    }

    [Fact]
    public void Middle_layer_records_its_raw_backing_format()
    {
        // Arrange
        var json = QemuInfoSamples.ThreeLayerChain;

        // Act
        var mid = QemuJson.ParseChain(json)[1];

        // Assert
        Assert.Equal("base.raw", mid.BackingFilename);
        Assert.Equal("/var/lib/vm/base.raw", mid.FullBackingFilename);
        Assert.Equal("raw", mid.BackingFilenameFormat);
    }

    [Fact]
    public void Raw_layer_without_format_specific_has_no_bitmaps_no_backing_and_is_not_corrupt()
    {
        // Arrange
        var json = QemuInfoSamples.ThreeLayerChain;

        // Act
        var raw = QemuJson.ParseChain(json)[2];

        // Assert
        Assert.Equal("raw", raw.Format);
        Assert.Null(raw.FormatSpecific);
        Assert.Empty(raw.Bitmaps);
        Assert.False(raw.IsCorrupt);
        Assert.False(raw.HasBacking);
        Assert.Null(raw.BackingFilename);
        Assert.Null(raw.BackingFilenameFormat);
        Assert.Null(raw.ClusterSize);
        Assert.Equal(2101248L, raw.ActualSize);
    }

    [Fact]
    public void Single_object_without_backing_chain_becomes_a_one_layer_chain()
    {
        // Arrange
        var json = QemuInfoSamples.SingleObject;

        // Act
        var chain = QemuJson.ParseChain(json);

        // Assert
        var only = Assert.Single(chain);
        Assert.Equal("/var/lib/vm/disk.qcow2", only.Filename);
        Assert.Equal(1073741824L, only.VirtualSize);
        Assert.False(only.HasBacking);
        Assert.Equal("checkpoint-1", Assert.Single(only.Bitmaps).Name);
    }

    [Fact]
    public void Leading_whitespace_before_the_array_is_accepted()
    {
        // Arrange
        var json = "\n  \t" + QemuInfoSamples.ThreeLayerChain;

        // Act
        var chain = QemuJson.ParseChain(json);

        // Assert
        Assert.Equal(3, chain.Count);
    }

    [Fact]
    public void In_use_and_missing_auto_flags_are_read()
    {
        // Arrange
        var json = QemuInfoSamples.InUseBitmaps;

        // Act
        var bitmaps = Assert.Single(QemuJson.ParseChain(json)).Bitmaps;

        // Assert
        Assert.Equal(3, bitmaps.Count);
        Assert.Equal("b1", bitmaps[0].Name);
        Assert.True(bitmaps[0].IsInUse);
        Assert.True(bitmaps[0].IsEnabled);
        Assert.Equal("b-disabled", bitmaps[1].Name);
        Assert.True(bitmaps[1].IsInUse);
        Assert.False(bitmaps[1].IsEnabled);
        Assert.Equal("b-off", bitmaps[2].Name);
        Assert.False(bitmaps[2].IsInUse);
        Assert.False(bitmaps[2].IsEnabled);
        Assert.Empty(bitmaps[2].Flags);
        Assert.Equal(4096L, bitmaps[2].Granularity);
    }

    [Fact]
    public void Corrupt_flag_and_dirty_flag_are_read()
    {
        // Arrange
        var json = QemuInfoSamples.Corrupt;

        // Act
        var layer = Assert.Single(QemuJson.ParseChain(json));

        // Assert
        Assert.True(layer.IsCorrupt);
        Assert.True(layer.DirtyFlag);
        Assert.Empty(layer.Bitmaps);
    }

    [Fact]
    public void Qcow2_layer_without_a_bitmaps_key_has_no_bitmaps()
    {
        // Arrange
        var json = QemuInfoSamples.Corrupt;

        // Act
        var layer = Assert.Single(QemuJson.ParseChain(json));

        // Assert
        Assert.NotNull(layer.FormatSpecific?.Data);
        Assert.Null(layer.FormatSpecific.Data.Bitmaps);
        Assert.Empty(layer.Bitmaps);
    }

    [Fact]
    public void Layer_without_a_format_is_rejected()
    {
        // Arrange
        const string json = """[{"virtual-size": 1048576, "filename": "/var/lib/vm/x.qcow2"}]""";

        // Act
        var ex = Record.Exception(() => QemuJson.ParseChain(json));

        // Assert
        Assert.IsAssignableFrom<JsonException>(ex);
    }

    [Fact]
    public void Pascal_case_names_are_not_mistaken_for_qemu_fields()
    {
        // Arrange: qemu never prints "VirtualSize"; only the kebab-case name counts.
        const string json = """{"filename": "/x.raw", "format": "raw", "VirtualSize": 5, "virtual-size": 7}""";

        // Act
        var layer = Assert.Single(QemuJson.ParseChain(json));

        // Assert
        Assert.Equal(7L, layer.VirtualSize);
    }

    [Fact]
    public void Encryption_of_a_luks_qcow2_is_read()
    {
        // Arrange
        var json = QemuInfoSamples.Encrypted;

        // Act
        var layer = Assert.Single(QemuJson.ParseChain(json));

        // Assert
        Assert.True(layer.Encrypted);
        Assert.True(layer.IsEncrypted);
        Assert.Equal("luks", layer.FormatSpecific?.Data?.Encrypt?.Format);
    }

    [Fact]
    public void Layer_without_encryption_fields_is_not_encrypted()
    {
        // Arrange
        var json = QemuInfoSamples.ThreeLayerChain;

        // Act
        var chain = QemuJson.ParseChain(json);

        // Assert
        Assert.All(chain, l => Assert.False(l.IsEncrypted));
    }

    [Fact]
    public void Check_report_counts_are_read_and_absent_ones_are_zero()
    {
        // Arrange
        var json = QemuInfoSamples.CheckOfTruncated;

        // Act
        var report = QemuJson.ParseCheck(json);

        // Assert
        Assert.Equal(64, report.Corruptions);
        Assert.Equal(0, report.Leaks);
        Assert.Equal(0, report.CheckErrors);
    }

    [Theory]
    [InlineData("vda.data", "/var/lib/vm/vda.data")]
    [InlineData("../data/vda.raw", "/var/lib/data/vda.raw")]
    [InlineData("/srv/data/vda.raw", "/srv/data/vda.raw")]
    public void An_external_data_file_is_taken_from_the_layer_folder(string recorded, string expected)
    {
        // Arrange: qemu-img info reports the name as the header records it.
        var json = """
            [{"filename": "/var/lib/vm/vda.qcow2", "format": "qcow2", "virtual-size": 1048576,
              "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "data-file": "RECORDED", "data-file-raw": false}}}]
            """.Replace("RECORDED", recorded, StringComparison.Ordinal);

        // Act
        var layer = QemuJson.ParseChain(json)[0];

        // Assert
        Assert.Equal(recorded, layer.FormatSpecific?.Data?.DataFile);
        Assert.Equal(expected, layer.DataFilePath);
    }

    [Fact]
    public void A_layer_without_an_external_data_file_has_none()
    {
        var layer = QemuJson.ParseChain(QemuInfoSamples.ThreeLayerChain)[0];

        Assert.Null(layer.DataFilePath);
    }
}
