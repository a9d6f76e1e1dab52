using OfflineExport.Export;
using OfflineExport.Qemu;
using OfflineExport.Tests.Qemu;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Export;

public sealed class ChainValidatorTests
{
    // ----- Rule 1: the top layer must hold the bitmap -----

    [Fact]
    public void Bitmap_missing_in_top_lists_the_available_names()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1"), Bitmap("b2")), Qcow2(BasePath, Bitmap("b9")));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b9"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b9' not found in {TopPath}; available: b1, b2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bitmap_missing_in_a_top_without_bitmaps_says_none_are_available()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' not found in {TopPath}; available: none", ex.Message, StringComparison.Ordinal);
    }

    // ----- Rule 2: no gap -----

    [Fact]
    public void Gap_in_the_middle_layer_names_that_layer()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains("'b1'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"missing from {MidPath}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"present in {BasePath}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TopPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gap_names_the_first_layer_that_lacks_the_bitmap()
    {
        // Arrange: top has it, two layers lack it, the base has it again.
        const string upperMid = "/var/lib/vm/mid-a.qcow2";
        const string lowerMid = "/var/lib/vm/mid-b.qcow2";
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(upperMid), Qcow2(lowerMid), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"missing from {upperMid}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"present in {BasePath}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bitmap_only_in_the_top_of_three_layers_is_valid_with_one_merge_source()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath), Qcow2(BasePath));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Equal(3, validated.Layers.Count);
        var source = Assert.Single(validated.MergeSources);
        Assert.Equal(0, source.Layer.Index);
        Assert.Equal(TopPath, source.Layer.Path);
        Assert.Equal("layer0", source.Layer.NodeName);
        Assert.Equal("b1", source.Bitmap);
        Assert.Equal(DefaultGranularity, validated.Granularity);
    }

    [Fact]
    public void Bitmap_in_the_top_two_of_three_layers_gives_two_merge_sources()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath, Bitmap("b1")), Qcow2(BasePath));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Equal([TopPath, MidPath], validated.MergeSources.Select(s => s.Layer.Path));
    }

    [Fact]
    public void Bitmap_in_all_three_layers_gives_three_merge_sources()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath, Bitmap("b1")), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Equal(3, validated.MergeSources.Count);
        Assert.Equal([0, 1, 2], validated.MergeSources.Select(s => s.Layer.Index));
        Assert.Equal([TopPath, MidPath, BasePath], validated.MergeSources.Select(s => s.Layer.Path));
        Assert.Equal(["layer0", "layer1", "layer2"], validated.MergeSources.Select(s => s.Layer.NodeName));
        Assert.All(validated.MergeSources, s => Assert.Equal("b1", s.Bitmap));
    }

    // ----- Rule 3: auto present, in-use absent -----

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void In_use_bitmap_is_refused_naming_its_layer(int layerWithInUse)
    {
        // Arrange
        string[] paths = [TopPath, MidPath, BasePath];
        var layers = paths
            .Select((p, i) => Qcow2(p, i == layerWithInUse ? BitmapWithFlags("b1", "in-use", "auto") : Bitmap("b1")))
            .ToArray();
        var chain = Chain(layers);

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' in {paths[layerWithInUse]}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("in-use", ex.Message, StringComparison.Ordinal);
        Assert.All(paths.Where((_, i) => i != layerWithInUse), p => Assert.DoesNotContain(p, ex.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Disabled_bitmap_without_auto_is_refused_naming_its_layer(int disabledLayer)
    {
        // Arrange
        string[] paths = [TopPath, MidPath, BasePath];
        var layers = paths
            .Select((p, i) => Qcow2(p, i == disabledLayer ? BitmapWithFlags("b1") : Bitmap("b1")))
            .ToArray();
        var chain = Chain(layers);

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' in {paths[disabledLayer]}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("disabled", ex.Message, StringComparison.Ordinal);
        Assert.All(paths.Where((_, i) => i != disabledLayer), p => Assert.DoesNotContain(p, ex.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void In_use_bitmap_without_auto_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, BitmapWithFlags("b1", "in-use")));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains(TopPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_of_an_unrequested_bitmap_do_not_matter()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1"), BitmapWithFlags("old", "in-use")), Qcow2(BasePath, BitmapWithFlags("older")));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        var source = Assert.Single(validated.MergeSources);
        Assert.Equal(TopPath, source.Layer.Path);
    }

    [Fact]
    public void Bitmap_without_granularity_is_refused_naming_its_layer()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath, Bitmap("b1", granularity: 0)));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' in {BasePath}", ex.Message, StringComparison.Ordinal);
    }

    // ----- Rule 4: same virtual size -----

    [Fact]
    public void Bitmap_in_a_layer_of_another_virtual_size_is_refused_with_both_sizes()
    {
        // Arrange
        const long oldSize = 5L * 1024 * 1024 * 1024;
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath, Bitmap("b1")) with { VirtualSize = oldSize }, Qcow2(BasePath));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' in {MidPath}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("5368709120", ex.Message, StringComparison.Ordinal);
        Assert.Contains("10737418240", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BasePath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layer_without_the_bitmap_may_have_another_virtual_size()
    {
        // Arrange: the disk grew after the base was frozen; the checkpoint was taken after the resize.
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath) with { VirtualSize = 1L << 30 });

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Single(validated.MergeSources);
        Assert.Equal(DiskSize, validated.VirtualSize);
    }

    // ----- Rule 5: corrupt, json:, unrecorded backing format -----

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Corrupt_layer_is_refused_naming_it(int corruptLayer)
    {
        // Arrange
        string[] paths = [TopPath, MidPath, BasePath];
        var layers = paths
            .Select((p, i) => i == corruptLayer ? MarkCorrupt(Qcow2(p, Bitmap("b1"))) : Qcow2(p, Bitmap("b1")))
            .ToArray();
        var chain = Chain(layers);

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(paths[corruptLayer], ex.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_layer_is_refused_for_a_full_export_too()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath), MarkCorrupt(Qcow2(BasePath)));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.Contains(BasePath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_backing_name_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath));
        chain[0] = chain[0] with { BackingFilename = """json:{"driver":"qcow2","file":{"driver":"file","filename":"/var/lib/vm/base.qcow2"}}""" };

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("json:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_pseudo_protocol_as_a_layer_name_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2("""json:{"driver":"qcow2","file":{"driver":"nbd","path":"/run/x.sock"}}"""));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.Contains("json:", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Missing_backing_format_is_refused_naming_the_layer_and_its_backing(string? format)
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath, Bitmap("b1")), Qcow2(BasePath));
        chain[1] = chain[1] with { BackingFilenameFormat = format };

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(MidPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("base.qcow2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not recorded", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backing_recorded_with_another_format_than_the_next_layer_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Raw(RawBasePath));
        chain[0] = chain[0] with { BackingFilenameFormat = "qcow2" };

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains(RawBasePath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backing_file_missing_from_the_chain_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath));
        chain.RemoveAt(1);

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layer_listed_below_an_image_without_backing_is_refused()
    {
        // Arrange
        var chain = new List<ImageInfo> { Qcow2(TopPath), Qcow2(BasePath) };

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_chain_is_refused()
    {
        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate([], []));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
    }

    // ----- Rule 6: raw layers -----

    [Fact]
    public void Raw_base_stops_the_walk_and_a_qcow2_top_with_the_bitmap_is_valid()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Raw(RawBasePath));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Equal(2, validated.Layers.Count);
        Assert.Equal("raw", validated.Layers[1].Format);
        var source = Assert.Single(validated.MergeSources);
        Assert.Equal(TopPath, source.Layer.Path);
    }

    [Fact]
    public void Raw_base_under_two_qcow2_layers_with_the_bitmap_gives_two_sources()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath, Bitmap("b1")), Raw(RawBasePath));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        Assert.Equal([TopPath, MidPath], validated.MergeSources.Select(s => s.Layer.Path));
    }

    [Fact]
    public void Raw_top_with_a_requested_bitmap_is_refused()
    {
        // Arrange
        const string rawTop = "/var/lib/vm/disk.raw";
        var chain = Chain(Raw(rawTop));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.StartsWith(rawTop, ex.Message, StringComparison.Ordinal);
        Assert.Contains("raw", ex.Message, StringComparison.Ordinal);
        Assert.Contains("full export", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Raw_top_is_valid_for_a_full_export()
    {
        // Arrange
        var chain = Chain(Raw("/var/lib/vm/disk.raw"));

        // Act
        var validated = ChainValidator.Validate(chain, []);

        // Assert
        Assert.Equal("raw", validated.Top.Format);
        Assert.Empty(validated.MergeSources);
    }

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
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1", "b2"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(relative, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relative_filename_of_a_lower_layer_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2("base.qcow2"));

        // Act
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<ExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ExportErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains("bitmap 'b1' in /var/lib/vm/crashed.qcow2", ex.Message, StringComparison.Ordinal);
    }
}
