using System.Text;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

/// <summary>qemu-img -p's progress lines, read as they come and taken out of the text kept for messages.</summary>
public sealed class QemuProgressOutputTests
{
    [Fact]
    public async Task Each_redrawn_percentage_is_reported_as_a_fraction_in_order()
    {
        // What qemu-img compare -p writes to a pipe: redraws with \r, then its verdict.
        var output = "    (0.00/100%)\r    (12.50/100%)\r    (100.00/100%)\rImages are identical.\n";
        var seen = new List<double>();

        await QemuProgressOutput.ReadAsync(new MemoryStream(Encoding.ASCII.GetBytes(output)), seen.Add, CancellationToken.None);

        Assert.Equal([0.0, 0.125, 1.0], seen);
    }

    [Theory]
    [InlineData("    (45.01/100%)", 0.4501)]
    [InlineData("(100/100%)", 1.0)]
    [InlineData("Images are identical.", null)]
    [InlineData("Content mismatch at offset 1048576!", null)]
    [InlineData("(250.00/100%)", 1.0)] // clamped, never past the end
    public void A_line_is_a_progress_line_only_in_qemu_img_s_shape(string line, double? expected) =>
        Assert.Equal(expected, QemuProgressOutput.Parse(line));

    [Fact]
    public void The_verdict_survives_without_the_progress_around_it()
    {
        var text = QemuProgressOutput.WithoutProgress("    (0.00/100%)\r    (50.00/100%)\rContent mismatch at offset 1048576!\n");

        Assert.Equal("Content mismatch at offset 1048576!\n", text);
    }
}
