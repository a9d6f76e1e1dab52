using OfflineExport.Export;
using OfflineExport.Qemu;
using OfflineExport.Tests.Qemu;
using static OfflineExport.Tests.Export.ChainBuilder;

namespace OfflineExport.Tests.Export;

/// <content>Rules 4 to 6: virtual sizes, chain structure, raw layers.</content>
public sealed partial class ChainValidatorTests
{
    // ----- Rule 4: same virtual size -----

    [Fact]
    public void Bitmap_in_a_layer_of_another_virtual_size_is_refused_with_both_sizes()
    {
        // Arrange
        const long oldSize = 5L * 1024 * 1024 * 1024;
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(MidPath, Bitmap("b1")) with { VirtualSize = oldSize }, Qcow2(BasePath));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(paths[corruptLayer], ex.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_layer_is_refused_for_a_full_export_too()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath), MarkCorrupt(Qcow2(BasePath)));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Contains(BasePath, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Encrypted_layer_is_refused_naming_it_and_its_scheme(int encryptedLayer)
    {
        // Arrange
        string[] paths = [TopPath, BasePath];
        var layers = paths.Select((p, i) => i == encryptedLayer ? Encrypt(Qcow2(p), "luks") : Qcow2(p)).ToArray();
        var chain = Chain(layers);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Equal($"{paths[encryptedLayer]} is encrypted (LUKS); offline-export cannot read encrypted images", ex.Message);
    }

    [Fact]
    public void Layer_flagged_encrypted_without_details_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath) with { Encrypted = true });

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.ValidateStructure(chain));

        // Assert
        Assert.Equal($"{TopPath} is encrypted; offline-export cannot read encrypted images", ex.Message);
    }

    [Fact]
    public void Json_backing_name_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2(TopPath, Bitmap("b1")), Qcow2(BasePath));
        chain[0] = chain[0] with { BackingFilename = """json:{"driver":"qcow2","file":{"driver":"file","filename":"/var/lib/vm/base.qcow2"}}""" };

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("json:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_pseudo_protocol_as_a_layer_name_is_refused()
    {
        // Arrange
        var chain = Chain(Qcow2("""json:{"driver":"qcow2","file":{"driver":"nbd","path":"/run/x.sock"}}"""));

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layer_listed_below_an_image_without_backing_is_refused()
    {
        // Arrange
        var chain = new List<ImageInfo> { Qcow2(TopPath), Qcow2(BasePath) };

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, []));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.StartsWith(TopPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_chain_is_refused()
    {
        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate([], []));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
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
        var ex = Assert.Throws<OfflineExportException>(() => ChainValidator.Validate(chain, ["b1"]));

        // Assert
        Assert.Equal(ErrorKind.InvalidCheckpoint, ex.Kind);
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
}
