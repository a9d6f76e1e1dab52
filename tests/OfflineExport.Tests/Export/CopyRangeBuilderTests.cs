using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed partial class CopyRangeBuilderTests
{
    private const ulong KiB = 1UL << 10;
    private const ulong MiB = 1UL << 20;
    private const ulong GiB = 1UL << 30;

    public static TheoryData<int, bool> Seeds
    {
        get
        {
            var data = new TheoryData<int, bool>();
            foreach (var seed in Enumerable.Range(1, 30))
            {
                data.Add(seed, true);
                data.Add(seed, false);
            }

            return data;
        }
    }

    [Fact]
    public void Adjacent_ranges_of_the_same_kind_merge()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, GiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 64 * KiB, CopyKind.Data, output);
        builder.Add(64 * KiB, 64 * KiB, CopyKind.Data, output);
        builder.Add(128 * KiB, 128 * KiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal([new CopyRange(0, 256 * KiB, CopyKind.Data)], output);
    }

    [Fact]
    public void Adjacent_zero_ranges_merge_when_zeroes_are_emitted()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, GiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 64 * KiB, CopyKind.Zero, output);
        builder.Add(64 * KiB, 64 * KiB, CopyKind.Zero, output);
        builder.Flush(output);

        // Assert
        Assert.Equal([new CopyRange(0, 128 * KiB, CopyKind.Zero)], output);
    }

    [Fact]
    public void Non_adjacent_ranges_of_the_same_kind_are_not_merged()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, GiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 64 * KiB, CopyKind.Data, output);
        builder.Add(128 * KiB, 64 * KiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal([new CopyRange(0, 64 * KiB, CopyKind.Data), new CopyRange(128 * KiB, 64 * KiB, CopyKind.Data)], output);
    }

    [Fact]
    public void Kind_change_flushes_the_range_in_progress()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, GiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 64 * KiB, CopyKind.Data, output);
        builder.Add(64 * KiB, 64 * KiB, CopyKind.Zero, output);
        var afterChange = output.ToList();
        builder.Add(128 * KiB, 64 * KiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal([new CopyRange(0, 64 * KiB, CopyKind.Data)], afterChange);
        Assert.Equal(
            [
                new CopyRange(0, 64 * KiB, CopyKind.Data),
                new CopyRange(64 * KiB, 64 * KiB, CopyKind.Zero),
                new CopyRange(128 * KiB, 64 * KiB, CopyKind.Data),
            ],
            output);
    }

    [Fact]
    public void Long_range_with_an_unaligned_start_gives_a_short_first_piece_then_aligned_ones()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, GiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(MiB - (4 * KiB), (2 * MiB) + (8 * KiB), CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal(
            [
                new CopyRange(MiB - (4 * KiB), 4 * KiB, CopyKind.Data),
                new CopyRange(MiB, MiB, CopyKind.Data),
                new CopyRange(2 * MiB, MiB, CopyKind.Data),
                new CopyRange(3 * MiB, 4 * KiB, CopyKind.Data),
            ],
            output);
    }

    [Fact]
    public void Pieces_are_aligned_to_the_maximum_counted_from_offset_zero_not_from_the_range_start()
    {
        // Arrange
        var builder = new CopyRangeBuilder(1000, 1000, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(1500, 2000, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal([1500UL, 2000UL, 3000UL], output.Select(r => r.Offset));
        Assert.Equal([2000UL, 3000UL, 3500UL], output.Select(r => r.End));
    }

    [Fact]
    public void Zero_ranges_are_dropped_when_zeroes_are_not_emitted()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: false);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 64 * KiB, CopyKind.Data, output);
        builder.Add(64 * KiB, 5 * MiB, CopyKind.Zero, output);
        builder.Add((5 * MiB) + (64 * KiB), 64 * KiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal(
            [
                new CopyRange(0, 64 * KiB, CopyKind.Data),
                new CopyRange((5 * MiB) + (64 * KiB), 64 * KiB, CopyKind.Data),
            ],
            output);
    }

    [Fact]
    public void Only_zero_ranges_give_nothing_when_zeroes_are_not_emitted()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: false);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 10 * MiB, CopyKind.Zero, output);
        builder.Add(10 * MiB, 4 * KiB, CopyKind.Zero, output);
        builder.Flush(output);

        // Assert
        Assert.Empty(output);
    }

    [Fact]
    public void Zero_ranges_are_kept_and_cut_at_their_own_maximum_when_zeroes_are_emitted()
    {
        // Arrange
        var builder = new CopyRangeBuilder(maximumData: 4 * KiB, maximumZero: MiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 12 * KiB, CopyKind.Data, output);
        builder.Add(12 * KiB, (3 * MiB) - (12 * KiB), CopyKind.Zero, output);
        builder.Flush(output);

        // Assert
        Assert.Equal(
            [
                new CopyRange(0, 4 * KiB, CopyKind.Data),
                new CopyRange(4 * KiB, 4 * KiB, CopyKind.Data),
                new CopyRange(8 * KiB, 4 * KiB, CopyKind.Data),
                new CopyRange(12 * KiB, MiB - (12 * KiB), CopyKind.Zero),
                new CopyRange(MiB, MiB, CopyKind.Zero),
                new CopyRange(2 * MiB, MiB, CopyKind.Zero),
            ],
            output);
    }

    [Fact]
    public void Data_ranges_are_cut_at_the_data_maximum_even_when_the_zero_maximum_is_larger()
    {
        // Arrange
        var builder = new CopyRangeBuilder(maximumData: MiB, maximumZero: GiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 3 * MiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal(3, output.Count);
        Assert.All(output, r => Assert.Equal(MiB, r.Length));
    }

    [Fact]
    public void Flush_emits_the_tail_once()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: true);
        var output = new List<CopyRange>();
        builder.Add(0, MiB + (4 * KiB), CopyKind.Data, output);
        var beforeFlush = output.ToList();

        // Act
        builder.Flush(output);
        builder.Flush(output);

        // Assert
        Assert.Equal([new CopyRange(0, MiB, CopyKind.Data)], beforeFlush);
        Assert.Equal([new CopyRange(0, MiB, CopyKind.Data), new CopyRange(MiB, 4 * KiB, CopyKind.Data)], output);
    }

    [Fact]
    public void Flush_without_a_range_emits_nothing()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Flush(output);

        // Assert
        Assert.Empty(output);
    }

    [Fact]
    public void Empty_range_neither_emits_nor_breaks_the_range_in_progress()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 4 * KiB, CopyKind.Data, output);
        builder.Add(4 * KiB, 0, CopyKind.Zero, output);
        builder.Add(4 * KiB, 4 * KiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal([new CopyRange(0, 8 * KiB, CopyKind.Data)], output);
    }

    [Fact]
    public void Range_ending_on_a_boundary_then_another_kind_starts_cleanly()
    {
        // Arrange
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, MiB, CopyKind.Data, output);
        builder.Add(MiB, 4 * KiB, CopyKind.Zero, output);
        builder.Add(MiB + (4 * KiB), 4 * KiB, CopyKind.Data, output);
        builder.Flush(output);

        // Assert
        Assert.Equal(
            [
                new CopyRange(0, MiB, CopyKind.Data),
                new CopyRange(MiB, 4 * KiB, CopyKind.Zero),
                new CopyRange(MiB + (4 * KiB), 4 * KiB, CopyKind.Data),
            ],
            output);
    }

    [Fact]
    public void Huge_range_is_emitted_in_full_pieces_before_flush()
    {
        // Arrange
        const ulong maximum = 32 * MiB;
        var builder = new CopyRangeBuilder(maximum, maximum, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(0, 10 * GiB, CopyKind.Data, output);
        var beforeFlush = output.Count;
        builder.Flush(output);

        // Assert
        Assert.Equal(320, beforeFlush);
        Assert.Equal(320, output.Count);
        Assert.All(output, r => Assert.Equal(maximum, r.Length));
        Assert.All(output, r => Assert.Equal(CopyKind.Data, r.Kind));
        Assert.Equal(10 * GiB, output[^1].End);
    }

    [Fact]
    public void Huge_unaligned_zero_range_keeps_only_the_tail_until_flush()
    {
        // Arrange
        const ulong maximum = 32 * MiB;
        var builder = new CopyRangeBuilder(MiB, maximum, emitZero: true);
        var output = new List<CopyRange>();

        // Act
        builder.Add(4 * KiB, 10 * GiB, CopyKind.Zero, output);
        var beforeFlush = output.ToList();
        builder.Flush(output);

        // Assert
        Assert.Equal(320, beforeFlush.Count);
        Assert.Equal(new CopyRange(4 * KiB, maximum - (4 * KiB), CopyKind.Zero), beforeFlush[0]);
        Assert.All(beforeFlush.Skip(1), r => Assert.Equal(maximum, r.Length));
        Assert.Equal(new CopyRange(10 * GiB, 4 * KiB, CopyKind.Zero), output[^1]);
        Assert.Equal(321, output.Count);
    }

    [Fact]
    public void Range_fed_in_many_small_pieces_never_holds_back_a_full_request()
    {
        // Arrange: 64 GiB of data in 64 KiB extents, 1 MiB requests.
        var builder = new CopyRangeBuilder(MiB, MiB, emitZero: true);
        var output = new List<CopyRange>();
        ulong offset = 0;
        ulong worstPending = 0;

        // Act
        while (offset < 64 * GiB)
        {
            builder.Add(offset, 64 * KiB, CopyKind.Data, output);
            offset += 64 * KiB;
            var emitted = output.Count == 0 ? 0 : output[^1].End;
            worstPending = Math.Max(worstPending, offset - emitted);
        }

        builder.Flush(output);

        // Assert
        Assert.True(worstPending < MiB, $"held back {worstPending} bytes");
        Assert.Equal(64 * 1024, output.Count);
        Assert.Equal(64 * GiB, output[^1].End);
    }
}
