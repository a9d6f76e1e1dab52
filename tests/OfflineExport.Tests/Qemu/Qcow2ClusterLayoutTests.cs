using System.Buffers.Binary;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

/// <summary>Qcow2Header.ClusterLayout on headers written byte by byte.</summary>
public sealed class Qcow2ClusterLayoutTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"oe-layout-{Guid.NewGuid():N}.qcow2");

    public void Dispose() => File.Delete(_file);

    private (int ClusterSize, bool ExtendedL2)? LayoutOf(uint version, uint clusterBits, ulong incompatible = 0, int length = 104, uint magic = 0x514649fb)
    {
        var bytes = new byte[length];
        var header = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(header, magic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], version);
        BinaryPrimitives.WriteUInt32BigEndian(header[20..], clusterBits);
        if (length >= 80)
        {
            BinaryPrimitives.WriteUInt64BigEndian(header[72..], incompatible);
        }

        File.WriteAllBytes(_file, bytes);
        using var handle = RegularFileHandle.OpenImageForReading(_file);
        return Qcow2Header.ClusterLayout(handle);
    }

    [Fact]
    public void Version_3_with_extended_L2_and_without()
    {
        Assert.Equal((131072, true), LayoutOf(3, 17, incompatible: 16));
        Assert.Equal((65536, false), LayoutOf(3, 16, incompatible: 1 | 8));
    }

    [Fact]
    public void Version_2_has_no_extended_L2_whatever_follows_its_header() =>
        Assert.Equal((65536, false), LayoutOf(2, 16, incompatible: 16, length: 72));

    [Theory]
    [InlineData(3u, 8u, 104, 0x514649fbu)] // clusters below 512 bytes
    [InlineData(3u, 22u, 104, 0x514649fbu)] // above 2 MiB
    [InlineData(3u, 16u, 60, 0x514649fbu)] // a version 3 header cut before its features
    [InlineData(3u, 16u, 104, 0x514649fau)] // not qcow2
    public void An_odd_header_gives_no_layout(uint version, uint clusterBits, int length, uint magic) =>
        Assert.Null(LayoutOf(version, clusterBits, length: length, magic: magic));
}
