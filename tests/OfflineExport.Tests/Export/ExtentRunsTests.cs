using OfflineExport.Export;
using OfflineExport.Nbd;

namespace OfflineExport.Tests.Export;

public sealed class ExtentRunsTests
{
    private const ulong MiB = 1UL << 20;
    private const ulong GiB = 1UL << 30;

    public static TheoryData<int> Seeds
    {
        get
        {
            var data = new TheoryData<int>();
            foreach (var seed in Enumerable.Range(1, 40))
            {
                data.Add(seed);
            }

            return data;
        }
    }

    [Fact]
    public void Adjacent_selected_extents_merge_into_one_run()
    {
        // Arrange
        var runs = new ExtentRuns(GiB);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(0, 4096, 1), true, output);
        runs.Add(new NbdExtent(4096, 8192, 1), true, output);
        runs.Add(new NbdExtent(12288, 4096, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(0, 16384)], output);
    }

    [Fact]
    public void Unselected_extent_ends_the_run()
    {
        // Arrange
        var runs = new ExtentRuns(GiB);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(0, 4096, 1), true, output);
        runs.Add(new NbdExtent(4096, 4096, 0), false, output);
        var afterUnselected = output.ToList();
        runs.Add(new NbdExtent(8192, 4096, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(0, 4096)], afterUnselected);
        Assert.Equal([new ByteRange(0, 4096), new ByteRange(8192, 4096)], output);
    }

    [Fact]
    public void Non_adjacent_selected_extents_are_not_merged()
    {
        // Arrange
        var runs = new ExtentRuns(GiB);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(0, 4096, 1), true, output);
        runs.Add(new NbdExtent(65536, 4096, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(0, 4096), new ByteRange(65536, 4096)], output);
    }

    [Fact]
    public void Long_run_with_an_unaligned_start_is_cut_at_multiples_of_the_maximum_counted_from_zero()
    {
        // Arrange
        var runs = new ExtentRuns(1000);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(100, 2500, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(100, 900), new ByteRange(1000, 1000), new ByteRange(2000, 600)], output);
    }

    [Fact]
    public void Long_run_with_an_aligned_start_is_cut_into_full_pieces()
    {
        // Arrange
        var runs = new ExtentRuns(MiB);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(2 * MiB, 3 * MiB, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(2 * MiB, MiB), new ByteRange(3 * MiB, MiB), new ByteRange(4 * MiB, MiB)], output);
    }

    [Fact]
    public void Run_growing_across_a_boundary_is_cut_there()
    {
        // Arrange
        var runs = new ExtentRuns(MiB);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(MiB - 4096, 4096, 1), true, output);
        var afterFirst = output.ToList();
        runs.Add(new NbdExtent(MiB, 4096, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(MiB - 4096, 4096)], afterFirst);
        Assert.Equal([new ByteRange(MiB - 4096, 4096), new ByteRange(MiB, 4096)], output);
    }

    [Fact]
    public void Run_shorter_than_the_maximum_is_held_until_flush()
    {
        // Arrange
        var runs = new ExtentRuns(MiB);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(4096, 8192, 1), true, output);
        var beforeFlush = output.ToList();
        runs.Flush(output);

        // Assert
        Assert.Empty(beforeFlush);
        Assert.Equal([new ByteRange(4096, 8192)], output);
    }

    [Fact]
    public void Flush_emits_the_tail_once()
    {
        // Arrange
        var runs = new ExtentRuns(1000);
        var output = new List<ByteRange>();
        runs.Add(new NbdExtent(0, 1500, 1), true, output);

        // Act
        runs.Flush(output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(0, 1000), new ByteRange(1000, 500)], output);
    }

    [Fact]
    public void Flush_without_a_run_emits_nothing()
    {
        // Arrange
        var runs = new ExtentRuns(1000);
        var output = new List<ByteRange>();
        runs.Add(new NbdExtent(0, 4096, 0), false, output);

        // Act
        runs.Flush(output);

        // Assert
        Assert.Empty(output);
    }

    [Fact]
    public void Run_ending_on_a_boundary_continues_with_an_adjacent_extent()
    {
        // Arrange
        var runs = new ExtentRuns(1000);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(500, 500, 1), true, output);
        runs.Add(new NbdExtent(1000, 300, 1), true, output);
        runs.Flush(output);

        // Assert
        Assert.Equal([new ByteRange(500, 500), new ByteRange(1000, 300)], output);
    }

    [Fact]
    public void Huge_run_is_emitted_in_full_pieces_before_flush()
    {
        // Arrange
        const ulong maximum = 32 * MiB;
        var runs = new ExtentRuns(maximum);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(0, 10 * GiB, 1), true, output);
        var beforeFlush = output.Count;
        runs.Flush(output);

        // Assert
        Assert.Equal(320, beforeFlush);
        Assert.Equal(320, output.Count);
        Assert.All(output, r => Assert.Equal(maximum, r.Length));
        Assert.Equal(10 * GiB, output[^1].End);
    }

    [Fact]
    public void Huge_unaligned_run_keeps_only_the_tail_until_flush()
    {
        // Arrange
        const ulong maximum = 32 * MiB;
        var runs = new ExtentRuns(maximum);
        var output = new List<ByteRange>();

        // Act
        runs.Add(new NbdExtent(4096, 10 * GiB, 1), true, output);
        var beforeFlush = output.ToList();
        runs.Flush(output);

        // Assert
        Assert.Equal(320, beforeFlush.Count);
        Assert.Equal(new ByteRange(4096, maximum - 4096), beforeFlush[0]);
        Assert.All(beforeFlush.Skip(1), r => Assert.Equal(maximum, r.Length));
        Assert.Equal(10 * GiB, beforeFlush[^1].End);
        Assert.Equal(new ByteRange(10 * GiB, 4096), output[^1]);
        Assert.Equal(321, output.Count);
    }

    [Fact]
    public void Run_fed_in_many_extents_never_holds_back_a_full_piece()
    {
        // Arrange: 1 TiB of dirty extents of 3 MiB each, 1 GiB pieces.
        var runs = new ExtentRuns(GiB);
        var output = new List<ByteRange>();
        ulong offset = 0;
        ulong worstPending = 0;

        // Act
        while (offset < 1024 * GiB)
        {
            runs.Add(new NbdExtent(offset, 3 * MiB, 1), true, output);
            offset += 3 * MiB;
            var emitted = output.Count == 0 ? 0 : output[^1].End;
            worstPending = Math.Max(worstPending, offset - emitted);
        }

        runs.Flush(output);

        // Assert
        Assert.True(worstPending < GiB, $"held back {worstPending} bytes");
        Assert.Equal(offset, output[^1].End);
        Assert.All(output.SkipLast(1), r => Assert.Equal(GiB, r.Length));
    }

    [Fact]
    public void Zero_maximum_is_rejected()
    {
        // Act
        var ex = Record.Exception(() => new ExtentRuns(0));

        // Assert
        Assert.IsType<ArgumentOutOfRangeException>(ex);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_extents_are_covered_exactly_in_order_within_the_maximum(int seed)
    {
        // Arrange
        var random = new Random(seed);
        ulong[] maxima = [512, 1000, 4096, 65536];
        var maximum = maxima[random.Next(maxima.Length)];
        var runs = new ExtentRuns(maximum);
        var output = new List<ByteRange>();
        var selected = new List<ByteRange>();
        var offset = (ulong)random.Next(0, 10_000);

        // Act
        for (var i = random.Next(1, 80); i > 0; i--)
        {
            if (random.Next(6) == 0)
            {
                offset += (ulong)random.Next(1, 5000); // a gap: the next extent is not adjacent
            }

            var length = random.Next(4) == 0
                ? (ulong)random.Next(1, (int)(maximum * 6))
                : (ulong)random.Next(1, 3000);
            var isSelected = random.Next(2) == 0;
            runs.Add(new NbdExtent(offset, length, isSelected ? 1u : 0u), isSelected, output);
            if (isSelected)
            {
                selected.Add(new ByteRange(offset, length));
            }

            offset += length;
        }

        runs.Flush(output);

        // Assert
        Assert.All(output, r => Assert.InRange(r.Length, 1UL, maximum));
        Assert.All(output, r => Assert.Equal(r.Offset / maximum, (r.End - 1) / maximum)); // never crosses a boundary
        for (var i = 1; i < output.Count; i++)
        {
            Assert.True(output[i].Offset >= output[i - 1].End, $"piece {i} {output[i]} overlaps or precedes {output[i - 1]}");
        }

        Assert.Equal(Normalize(selected), Normalize(output));
        Assert.Equal(ExpectedPieces(selected, maximum), output);
    }

    /// <summary>Coalesces touching ranges, so two descriptions of the same bytes compare equal.</summary>
    private static List<ByteRange> Normalize(IEnumerable<ByteRange> ranges)
    {
        var result = new List<ByteRange>();
        foreach (var r in ranges.OrderBy(r => r.Offset))
        {
            if (result.Count > 0 && result[^1].End >= r.Offset)
            {
                var last = result[^1];
                result[^1] = new ByteRange(last.Offset, Math.Max(last.End, r.End) - last.Offset);
            }
            else
            {
                result.Add(r);
            }
        }

        return result;
    }

    /// <summary>The reference answer: maximal runs of selected bytes, cut at every multiple of the maximum.</summary>
    private static List<ByteRange> ExpectedPieces(List<ByteRange> selectedInOrder, ulong maximum)
    {
        var pieces = new List<ByteRange>();
        foreach (var run in Normalize(selectedInOrder))
        {
            for (var start = run.Offset; start < run.End;)
            {
                var end = Math.Min(run.End, ((start / maximum) + 1) * maximum);
                pieces.Add(new ByteRange(start, end - start));
                start = end;
            }
        }

        return pieces;
    }
}
