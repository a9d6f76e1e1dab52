using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

/// <content>Argument checks, and seeded random inputs checked against a simple reference model.</content>
public sealed partial class CopyRangeBuilderTests
{
    [Theory]
    [InlineData(0UL, 1UL)]
    [InlineData(1UL, 0UL)]
    public void Zero_maximum_is_rejected(ulong maximumData, ulong maximumZero)
    {
        // Act
        var ex = Record.Exception(() => new CopyRangeBuilder(maximumData, maximumZero, emitZero: true));

        // Assert
        Assert.IsType<ArgumentOutOfRangeException>(ex);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_ranges_are_covered_exactly_in_order_within_the_maxima(int seed, bool emitZero)
    {
        // Arrange
        var random = new Random(seed);
        ulong[] maxima = [512, 1000, 4096, 65536];
        var maximumData = maxima[random.Next(maxima.Length)];
        var maximumZero = maxima[random.Next(maxima.Length)];
        var builder = new CopyRangeBuilder(maximumData, maximumZero, emitZero);
        var output = new List<CopyRange>();
        var input = new List<CopyRange>();
        var offset = (ulong)random.Next(0, 10_000);

        // Act
        for (var i = random.Next(1, 80); i > 0; i--)
        {
            if (random.Next(6) == 0)
            {
                offset += (ulong)random.Next(1, 5000); // a gap: not adjacent
            }

            var kind = random.Next(2) == 0 ? CopyKind.Data : CopyKind.Zero;
            var maximum = kind == CopyKind.Data ? maximumData : maximumZero;
            var length = random.Next(4) == 0
                ? (ulong)random.Next(1, (int)(maximum * 6))
                : (ulong)random.Next(1, 3000);
            builder.Add(offset, length, kind, output);
            input.Add(new CopyRange(offset, length, kind));
            offset += length;
        }

        builder.Flush(output);

        // Assert
        Assert.All(output, r => Assert.InRange(r.Length, 1UL, r.Kind == CopyKind.Data ? maximumData : maximumZero));
        for (var i = 1; i < output.Count; i++)
        {
            Assert.True(output[i].Offset >= output[i - 1].End, $"request {i} {output[i]} overlaps or precedes {output[i - 1]}");
        }

        if (!emitZero)
        {
            Assert.DoesNotContain(output, r => r.Kind == CopyKind.Zero);
        }

        foreach (var kind in new[] { CopyKind.Data, CopyKind.Zero })
        {
            var wanted = kind == CopyKind.Data || emitZero ? input.Where(r => r.Kind == kind) : [];
            Assert.Equal(Normalize(wanted), Normalize(output.Where(r => r.Kind == kind)));
        }

        Assert.Equal(ExpectedRequests(input, maximumData, maximumZero, emitZero), output);
    }

    /// <summary>Coalesces touching ranges of one kind, so two descriptions of the same bytes compare equal.</summary>
    private static List<(ulong Offset, ulong End)> Normalize(IEnumerable<CopyRange> ranges)
    {
        var result = new List<(ulong Offset, ulong End)>();
        foreach (var r in ranges.OrderBy(r => r.Offset))
        {
            if (result.Count > 0 && result[^1].End >= r.Offset)
            {
                result[^1] = (result[^1].Offset, Math.Max(result[^1].End, r.End));
            }
            else
            {
                result.Add((r.Offset, r.End));
            }
        }

        return result;
    }

    /// <summary>The reference answer: maximal same-kind runs, cut at every multiple of the kind's maximum, zeroes dropped unless emitted.</summary>
    private static List<CopyRange> ExpectedRequests(List<CopyRange> input, ulong maximumData, ulong maximumZero, bool emitZero)
    {
        var runs = new List<CopyRange>();
        foreach (var r in input)
        {
            if (runs.Count > 0 && runs[^1].Kind == r.Kind && runs[^1].End == r.Offset)
            {
                runs[^1] = runs[^1] with { Length = runs[^1].Length + r.Length };
            }
            else
            {
                runs.Add(r);
            }
        }

        var requests = new List<CopyRange>();
        foreach (var run in runs.Where(r => r.Kind == CopyKind.Data || emitZero))
        {
            var maximum = run.Kind == CopyKind.Data ? maximumData : maximumZero;
            for (var start = run.Offset; start < run.End;)
            {
                var end = Math.Min(run.End, ((start / maximum) + 1) * maximum);
                requests.Add(new CopyRange(start, end - start, run.Kind));
                start = end;
            }
        }

        return requests;
    }
}
