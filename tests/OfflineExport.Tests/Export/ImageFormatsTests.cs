using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed class ImageFormatsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("raw")]
    [InlineData("qcow2")]
    public void Raw_qcow2_and_no_format_are_accepted(string? format)
    {
        // Act
        var ex = Record.Exception(() => ImageFormats.CheckStated(format));

        // Assert
        Assert.Null(ex);
    }

    [Theory]
    [InlineData("vmdk")]
    [InlineData("QCOW2")]
    [InlineData("")]
    public void Any_other_stated_format_is_an_invalid_request(string format)
    {
        // Act
        var ex = Assert.Throws<OfflineExportException>(() => ImageFormats.CheckStated(format));

        // Assert
        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Equal($"format '{format}' is not supported; give raw or qcow2", ex.Message);
    }

    [Theory]
    [InlineData(FormatOrigin.Stated, "raw")]
    [InlineData(FormatOrigin.Recorded, "raw (recorded in the backup folder)")]
    [InlineData(FormatOrigin.Detected, "raw (detected; pass --format to state it)")]
    public void A_format_is_described_with_who_decided_it_unless_stated(FormatOrigin origin, string expected)
    {
        // Act
        var text = ImageFormats.Describe("raw", origin);

        // Assert
        Assert.Equal(expected, text);
    }
}
