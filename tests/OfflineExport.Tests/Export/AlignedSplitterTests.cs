using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

public sealed class AlignedSplitterTests
{
    [Theory]
    [InlineData(0UL, 10_000UL, 4096UL, 4096UL)]
    [InlineData(4096UL, 10_000UL, 4096UL, 8192UL)]
    [InlineData(100UL, 10_000UL, 4096UL, 4096UL)]
    [InlineData(4095UL, 10_000UL, 4096UL, 4096UL)]
    [InlineData(100UL, 2000UL, 4096UL, 2000UL)]
    [InlineData(5000UL, 8192UL, 4096UL, 8192UL)]
    [InlineData(1500UL, 9999UL, 1000UL, 2000UL)]
    public void First_piece_ends_at_the_next_multiple_of_the_maximum_or_at_the_end(ulong offset, ulong end, ulong maximum, ulong expected)
    {
        // Act
        var pieceEnd = AlignedSplitter.FirstPieceEnd(offset, end, maximum);

        // Assert
        Assert.Equal(expected, pieceEnd);
    }

    [Fact]
    public void First_piece_of_a_huge_range_at_a_high_offset_is_aligned()
    {
        // Arrange
        const ulong maximum = 32UL << 20;
        const ulong offset = (1UL << 40) + 4096;

        // Act
        var pieceEnd = AlignedSplitter.FirstPieceEnd(offset, offset + (10UL << 30), maximum);

        // Assert
        Assert.Equal((1UL << 40) + maximum, pieceEnd);
    }

    [Theory]
    [InlineData(0UL, 4096UL, 0UL)]
    [InlineData(4095UL, 4096UL, 0UL)]
    [InlineData(4096UL, 4096UL, 4096UL)]
    [InlineData(10_000UL, 4096UL, 8192UL)]
    [InlineData(2999UL, 1000UL, 2000UL)]
    public void Last_boundary_is_the_multiple_of_the_maximum_at_or_before_the_end(ulong end, ulong maximum, ulong expected)
    {
        // Act
        var boundary = AlignedSplitter.LastBoundary(end, maximum);

        // Assert
        Assert.Equal(expected, boundary);
    }
}
