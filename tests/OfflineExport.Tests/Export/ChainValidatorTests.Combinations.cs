using OfflineExport.Export;
using OfflineExport.Qemu;
using OfflineExport.Tests.Qemu;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Export;

/// <content>Several names, granularity, full export, formats, and qemu output end to end.</content>
public sealed partial class ChainValidatorTests
{
    // ----- Several names, granularity, full export -----

    [Fact]
    public void Union_of_two_names_gives_both_names_sources()
    {
        // Arrange: b1 in all three layers, b2 only in the top two.
        var chain = Chain(
            Qcow2(TopPath, Bitmap("b1"), Bitmap("b2")),
            Qcow2(MidPath, Bitmap("b1"), Bitmap("b2")),
            Qcow2(BasePath, Bitmap("b1")));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1", "b2"]);

        // Assert
        var sources = validated.MergeSources.Select(s => (s.Layer.Path, s.Bitmap)).ToHashSet();
        Assert.Equal(5, validated.MergeSources.Count);
        Assert.Equal(
            new HashSet<(string, string)> { (TopPath, "b1"), (MidPath, "b1"), (BasePath, "b1"), (TopPath, "b2"), (MidPath, "b2") },
            sources);
    }

    [Fact]
    public void Union_is_refused_when_any_name_is_invalid()
    {
        // Arrange: b2 has a gap in the middle.
        var chain = Chain(
            Qcow2(TopPath, Bitmap("b1"), Bitmap("b2")),
            Qcow2(MidPath, Bitmap("b1")),
            Qcow2(BasePath, Bitmap("b1"), Bitmap("b2")));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1", "b2"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains("bitmap 'b2'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"missing from {MidPath}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_name_gives_its_sources_once()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1", "b1"]);

        // Assert
        Assert.Equal(2, validated.MergeSources.Count);
    }

    [Fact]
    public void Granularity_is_the_minimum_of_the_merge_sources()
    {
        // Arrange: an unrequested bitmap with a finer granularity must not count.
        var chain = Chain(
            Qcow2(TopPath, Bitmap("b1", 131072), Bitmap("b2", 65536), Bitmap("unused", 512)),
            Qcow2(MidPath, Bitmap("b1", 32768)),
            Qcow2(BasePath, Bitmap("b1", 1048576)));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1", "b2"]);

        // Assert
        Assert.Equal(32768L, validated.Granularity);
    }

    [Fact]
    public void Granularity_of_a_single_source_is_its_own()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1", 2097152)));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Equal(2097152L, validated.Granularity);
    }

    [Fact]
    public void Empty_bitmap_list_is_a_full_export_without_sources()
    {
        // Arrange: bitmaps that would be invalid do not matter for a full export.
        var chain = Chain(Qcow2(TopPath, BitmapWithFlags("b1", "in-use")), Qcow2(MidPath), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var validated = ChainValidator.Validate(chain, []);

        // Assert
        Assert.Empty(validated.MergeSources);
        Assert.Equal(0L, validated.Granularity);
        Assert.Equal([TopPath, MidPath, BasePath], validated.Layers.Select(l => l.Path));
        Assert.Equal(TopPath, validated.Top.Path);
        Assert.Equal(DiskSize, validated.VirtualSize);
    }

    // ----- Formats and file names -----

    [Fact]
    public void Unsupported_format_is_refused_naming_the_layer()
    {
        // Arrange
        const string vmdk = "/var/lib/vm/base.vmdk";
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), OfFormat(vmdk, "vmdk"));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(vmdk, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'vmdk'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_format_on_top_is_refused()
    {
        // Arrange
        const string vdi = "/var/lib/vm/disk.vdi";
        var chain = Chain(OfFormat(vdi, "vdi"));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(vdi, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("top.qcow2")]
    [InlineData("vm/top.qcow2")]
    [InlineData("./top.qcow2")]
    public void Relative_filename_is_refused(string relative)
    {
        // Arrange
        var chain = Chain(Qcow2(relative, Bitmap("b1")));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(relative, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relative_filename_of_a_lower_layer_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2("base.qcow2"));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith("base.qcow2", ex.Message, StringComparison.Ordinal);
    }

    // ----- End to end with qemu's own output -----

    [Fact]
    public void Chain_parsed_from_qemu_output_gives_the_layers_holding_the_bitmap()
    {
        // Arrange
        var chain = QemuJson.ParseChain(QemuInfoSamples.ThreeLayerChain);

        // Act
        var validated = ChainValidator.Validate(chain, ["b1", "b2"]);

        // Assert
        Assert.Equal(["qcow2", "qcow2", "raw"], validated.Layers.Select(l => l.Format));
        Assert.Equal(
            [("/var/lib/vm/top.qcow2", "b1"), ("/var/lib/vm/mid.qcow2", "b1"), ("/var/lib/vm/top.qcow2", "b2")],
            validated.MergeSources.Select(s => (s.Layer.Path, s.Bitmap)));
        Assert.Equal(65536L, validated.Granularity);
    }

    [Fact]
    public void Chain_parsed_from_qemu_output_with_an_in_use_bitmap_is_refused()
    {
        // Arrange
        var chain = QemuJson.ParseChain(QemuInfoSamples.InUseBitmaps);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains("bitmap 'b1' in /var/lib/vm/crashed.qcow2", ex.Message, StringComparison.Ordinal);
    }
}
