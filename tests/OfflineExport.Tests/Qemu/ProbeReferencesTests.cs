using System.Buffers.Binary;
using System.Text;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

/// <summary>ProbeReferences on headers written byte by byte: what qemu's probe would open besides the image.</summary>
public sealed class ProbeReferencesTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"oe-probe-{Guid.NewGuid():N}.img");

    public void Dispose() => File.Delete(_file);

    private string Qcow(byte[]? backingName = null, ulong backingOffset = 512, uint? backingSize = null, ulong incompatible = 0, uint version = 3)
    {
        var bytes = new byte[4096];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x514649fb);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), version);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(72), incompatible);
        if (backingName is not null)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), backingOffset);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), backingSize ?? (uint)backingName.Length);
            if ((int)backingOffset < bytes.Length)
            {
                backingName.CopyTo(bytes.AsSpan((int)backingOffset));
            }
        }

        File.WriteAllBytes(_file, bytes);
        return _file;
    }

    private string Text(string text)
    {
        var bytes = new byte[4096];
        Encoding.ASCII.GetBytes(text).CopyTo(bytes, 0);
        File.WriteAllBytes(_file, bytes);
        return _file;
    }

    [Fact]
    public void A_qcow2_backing_file_is_named_as_qemu_reads_it_up_to_a_nul()
    {
        Assert.Equal(new ProbedReference("qcow2", "backing file '/etc/shadow'"), ProbeReferences.Of(Qcow(Encoding.UTF8.GetBytes("/etc/shadow"))));
        Assert.Equal(new ProbedReference("qcow2", "backing file '/dev/sda'"), ProbeReferences.Of(Qcow(Encoding.UTF8.GetBytes("/dev/sda\0-and-more"))));
    }

    [Fact]
    public void A_backing_name_that_cannot_be_read_is_still_a_backing_file()
    {
        Assert.Equal("a backing file", ProbeReferences.Of(Qcow([0x2f, 0x61], backingOffset: 8192))!.What);
        Assert.Equal("a backing file", ProbeReferences.Of(Qcow([0], backingSize: 1))!.What);
    }

    [Fact]
    public void Version_2_and_qcow_1_headers_name_their_backing_files_too()
    {
        Assert.Equal(new ProbedReference("qcow2", "backing file '/x'"), ProbeReferences.Of(Qcow("/x"u8.ToArray(), version: 2)));
        Assert.Equal(new ProbedReference("qcow", "backing file '/x'"), ProbeReferences.Of(Qcow("/x"u8.ToArray(), version: 1)));
    }

    [Fact]
    public void An_external_data_file_is_named_from_version_3_on()
    {
        Assert.Equal(new ProbedReference("qcow2", "an external data file"), ProbeReferences.Of(Qcow(incompatible: 4)));
        Assert.Null(ProbeReferences.Of(Qcow(incompatible: 4, version: 2)));
    }

    [Theory]
    [InlineData("QED\0")]
    [InlineData("KDMV")]
    [InlineData("COWD")]
    [InlineData("# Disk DescriptorFile\nversion=1\nCID=12345678\nRW 2048 FLAT \"/dev/sda\" 0\n")]
    [InlineData("\n  \r\n# a comment\nversion=3\r\n")]
    public void Qed_and_vmdk_headers_and_descriptors_name_files(string head)
    {
        var reference = ProbeReferences.Of(Text(head));

        Assert.NotNull(reference);
        Assert.Equal(head.StartsWith("QED", StringComparison.Ordinal) ? "qed" : "vmdk", reference.Format);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello\nversion=1\n")]
    [InlineData("# only a comment\n")]
    [InlineData("QFI")]
    public void Plain_qcow2_raw_data_and_other_text_name_nothing(string head)
    {
        Assert.Null(ProbeReferences.Of(Qcow()));
        Assert.Null(ProbeReferences.Of(Text(head)));
    }
}
