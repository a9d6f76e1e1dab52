using System.Buffers.Binary;
using System.Text;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

/// <summary>Qcow2Header.OtherFileNamed on headers written byte by byte: what qemu would open besides the image.</summary>
public sealed class Qcow2HeaderTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"oe-header-{Guid.NewGuid():N}.img");

    public void Dispose() => File.Delete(_file);

    private string Header(byte[]? backingName = null, ulong backingOffset = 512, uint? backingSize = null, ulong incompatible = 0, int length = 4096)
    {
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x514649fb);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 3);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(72), incompatible);
        if (backingName is not null)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), backingOffset);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), backingSize ?? (uint)backingName.Length);
            if ((int)backingOffset < length)
            {
                backingName.CopyTo(bytes.AsSpan((int)backingOffset));
            }
        }

        File.WriteAllBytes(_file, bytes);
        return _file;
    }

    [Fact]
    public void A_backing_file_is_named_as_qemu_reads_it_up_to_a_nul()
    {
        Assert.Equal("backing file '/etc/shadow'", Qcow2Header.OtherFileNamed(Header(Encoding.UTF8.GetBytes("/etc/shadow"))));
        Assert.Equal("backing file '/dev/sda'", Qcow2Header.OtherFileNamed(Header(Encoding.UTF8.GetBytes("/dev/sda\0-and-more"))));
    }

    [Fact]
    public void A_backing_name_that_cannot_be_read_is_still_a_backing_file()
    {
        Assert.Equal("a backing file", Qcow2Header.OtherFileNamed(Header([0x2f, 0x61], backingOffset: 8192)));
        Assert.Equal("a backing file", Qcow2Header.OtherFileNamed(Header([0], backingSize: 1)));
    }

    [Fact]
    public void An_external_data_file_is_named()
    {
        Assert.Equal("an external data file", Qcow2Header.OtherFileNamed(Header(incompatible: 4)));
    }

    [Fact]
    public void A_plain_qcow2_or_anything_else_names_nothing()
    {
        Assert.Null(Qcow2Header.OtherFileNamed(Header()));
        File.WriteAllBytes(_file, new byte[4096]);
        Assert.Null(Qcow2Header.OtherFileNamed(_file));
        File.WriteAllBytes(_file, [0x51, 0x46, 0x49]);
        Assert.Null(Qcow2Header.OtherFileNamed(_file));
    }
}
