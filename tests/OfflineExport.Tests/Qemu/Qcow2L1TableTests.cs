using System.Buffers.Binary;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

/// <summary>Qcow2L1Table on headers and L1 tables written byte by byte: what it maps, and every header it must not answer for.</summary>
public sealed class Qcow2L1TableTests : IDisposable
{
    private const ulong Mapped = 0x8000_0000_0005_0000; // COPIED flag and an L2 table at 0x50000
    private const ulong TableOffset = 0x30000;
    private const ulong PerEntry64K = 65536UL / 8 * 65536; // 512 MiB
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"oe-l1-{Guid.NewGuid():N}.qcow2");

    public void Dispose() => File.Delete(_file);

    /// <summary>Writes a qcow2 header of <paramref name="version"/> with the L1 table <paramref name="entries"/> at <see cref="TableOffset"/>.</summary>
    private string Image(ulong[] entries, uint version = 3, uint clusterBits = 16, ulong incompatible = 0, uint crypt = 0, uint? entryCount = null, ulong tableOffset = TableOffset)
    {
        var bytes = new byte[(int)TableOffset + (entries.Length * 8)];
        var header = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(header, 0x514649fb);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], version);
        BinaryPrimitives.WriteUInt32BigEndian(header[20..], clusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(header[24..], 1UL << 40);
        BinaryPrimitives.WriteUInt32BigEndian(header[32..], crypt);
        BinaryPrimitives.WriteUInt32BigEndian(header[36..], entryCount ?? (uint)entries.Length);
        BinaryPrimitives.WriteUInt64BigEndian(header[40..], tableOffset);
        if (version == 3)
        {
            BinaryPrimitives.WriteUInt64BigEndian(header[72..], incompatible);
            BinaryPrimitives.WriteUInt32BigEndian(header[96..], 4);
            BinaryPrimitives.WriteUInt32BigEndian(header[100..], 104);
        }

        for (var i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(header[((int)TableOffset + (i * 8))..], entries[i]);
        }

        File.WriteAllBytes(_file, bytes);
        return _file;
    }

    [Fact]
    public void Runs_of_entries_with_an_L2_table_are_the_mapped_stretches()
    {
        // Arrange: entries 1-2 and 4 have tables; entry 5 has only flag bits, no table.
        var image = Image([0, Mapped, Mapped, 0, Mapped, 0x8000_0000_0000_0000]);

        // Act
        var stretches = Qcow2L1Table.MappedStretches(image, 100);

        // Assert
        Assert.Equal([(PerEntry64K, 3 * PerEntry64K), (4 * PerEntry64K, 5 * PerEntry64K)], stretches);
    }

    [Fact]
    public void A_version_2_header_is_read_too()
    {
        var stretches = Qcow2L1Table.MappedStretches(Image([Mapped], version: 2), 100);

        Assert.Equal([(0UL, PerEntry64K)], stretches);
    }

    [Theory]
    [InlineData(9, 512UL / 8 * 512)]
    [InlineData(21, (2UL << 20) / 8 * (2UL << 20))]
    public void An_entry_covers_one_L2_table_of_clusters(uint clusterBits, ulong perEntry)
    {
        var stretches = Qcow2L1Table.MappedStretches(Image([0, Mapped], clusterBits: clusterBits), 100);

        Assert.Equal([(perEntry, 2 * perEntry)], stretches);
    }

    [Fact]
    public void Extended_L2_entries_are_twice_as_long_so_an_entry_covers_half_as_much()
    {
        var stretches = Qcow2L1Table.MappedStretches(Image([0, Mapped], incompatible: 16), 100);

        Assert.Equal([(PerEntry64K / 2, PerEntry64K)], stretches);
    }

    [Fact]
    public void A_layer_with_no_L2_table_maps_nothing()
    {
        var stretches = Qcow2L1Table.MappedStretches(Image(new ulong[8192]), 100);

        Assert.NotNull(stretches);
        Assert.Empty(stretches);
    }

    [Fact]
    public void Dirty_and_compression_type_bits_are_understood()
    {
        var stretches = Qcow2L1Table.MappedStretches(Image([Mapped], incompatible: 1 | 8), 100);

        Assert.Equal([(0UL, PerEntry64K)], stretches);
    }

    [Theory]
    [InlineData(4UL, 0U, 16U, 3U)] // an external data file: the L1 table does not say where its data is
    [InlineData(2UL, 0U, 16U, 3U)] // marked corrupt
    [InlineData(32UL, 0U, 16U, 3U)] // a feature this reader does not know
    [InlineData(0UL, 1U, 16U, 3U)] // encrypted
    [InlineData(0UL, 0U, 8U, 3U)] // clusters too small
    [InlineData(0UL, 0U, 22U, 3U)] // clusters too large
    [InlineData(0UL, 0U, 16U, 1U)] // version 1
    [InlineData(0UL, 0U, 16U, 4U)] // version 4
    public void Headers_it_does_not_fully_understand_give_no_answer(ulong incompatible, uint crypt, uint clusterBits, uint version)
    {
        var stretches = Qcow2L1Table.MappedStretches(Image([Mapped], version, clusterBits, incompatible, crypt), 100);

        Assert.Null(stretches);
    }

    [Fact]
    public void A_table_past_the_end_of_the_file_or_too_large_gives_no_answer()
    {
        Assert.Null(Qcow2L1Table.MappedStretches(Image([Mapped], entryCount: 2), 100));
        Assert.Null(Qcow2L1Table.MappedStretches(Image([Mapped], entryCount: (32 << 20) / 8 + 1), 100));
        Assert.Null(Qcow2L1Table.MappedStretches(Image([Mapped], tableOffset: TableOffset + 4), 100));
    }

    [Fact]
    public void More_stretches_than_allowed_give_no_answer_rather_than_a_partial_one()
    {
        var image = Image([Mapped, 0, Mapped, 0, Mapped]);

        Assert.Null(Qcow2L1Table.MappedStretches(image, 2));
        Assert.Equal(3, Qcow2L1Table.MappedStretches(image, 3)!.Count);
    }

    [Fact]
    public void Anything_but_a_qcow2_gives_no_answer()
    {
        File.WriteAllBytes(_file, new byte[4096]);

        Assert.Null(Qcow2L1Table.MappedStretches(_file, 100));
        Assert.Null(Qcow2L1Table.MappedStretches(_file + ".missing", 100));
    }
}
