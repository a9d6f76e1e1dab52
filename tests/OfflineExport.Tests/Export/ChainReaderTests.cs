using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed class ChainReaderTests
{
    [Fact]
    public void Repeated_could_not_open_prefix_is_said_once()
    {
        var text = ChainReader.QemuErrorText("qemu-img: Could not open '/vm/a.qcow2': Could not open '/vm/a.qcow2': Permission denied\n");

        Assert.Equal("Could not open '/vm/a.qcow2': Permission denied", text);
    }

    [Fact]
    public void Two_line_lock_message_keeps_both_lines()
    {
        var text = ChainReader.QemuErrorText("qemu-img: Could not open 'a': Failed to get shared \"write\" lock\nIs another process using the image [a]?\n");

        Assert.Equal("Could not open 'a': Failed to get shared \"write\" lock | Is another process using the image [a]?", text);
    }
}
