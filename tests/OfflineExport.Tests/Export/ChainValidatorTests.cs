using OfflineExport.Export;
using OfflineExport.Qemu;
using OfflineExport.Tests.Qemu;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Export;

public sealed partial class ChainValidatorTests
{
    // ----- Rule 1: the top layer must hold the bitmap -----

    [Fact]
    public void Bitmap_in_no_layer_lists_the_top_layers_names()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1"), Bitmap("b2")), Qcow2(BasePath, Bitmap("b9")));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b3"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b3' not found in {TopPath}; available: b1, b2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bitmap_only_below_a_top_that_holds_data_is_refused_with_the_advice_that_keeps_the_chain()
    {
        // Arrange: an external snapshot the guest has written to.
        var chain = Chain(Qcow2(TopPath), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' is in {BasePath} but not in {TopPath} above it (an external snapshot), and {TopPath} holds data written since", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"qemu-img bitmap --add --enable {TopPath} b1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bitmap_only_below_an_empty_top_is_read_from_below_and_says_why()
    {
        // Arrange: an external snapshot nobody has written to yet.
        var chain = Chain(Qcow2(TopPath) with { HoldsNoClusters = true }, Qcow2(BasePath, Bitmap("b1")));

        // Act
        var validated = ChainValidator.Validate(chain, ["b1"]);

        // Assert
        var source = Assert.Single(validated.MergeSources);
        Assert.Equal(BasePath, source.Layer.Path);
        Assert.Equal("b1", source.Bitmap);
        Assert.Contains($"checkpoint b1 is read from {BasePath}: {TopPath} above it (an external snapshot) holds no data yet", Assert.Single(validated.Notes), StringComparison.Ordinal);
    }

    // ----- Rule 2: no gap -----

    [Fact]
    public void Gap_in_the_middle_layer_names_that_layer()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath), Qcow2(BasePath, Bitmap("b1")));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
        Assert.Contains($"bitmap 'b1' in {BasePath}", ex.Message, StringComparison.Ordinal);
    }
}
