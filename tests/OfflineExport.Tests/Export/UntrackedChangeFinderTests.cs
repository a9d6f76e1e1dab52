using OfflineExport.Export;
using OfflineExport.Nbd;

namespace OfflineExport.Tests.Export;

public sealed class UntrackedChangeFinderTests
{
    private const ulong MiB = 1 << 20;
    private const ulong Size = 64 * MiB;
    private const uint Data = 0;
    private const uint Zero = NbdProtocol.StateZero | NbdProtocol.StateHole;
    private const uint Dirty = NbdProtocol.StateDirty;
    private const uint Clean = 0;

    /// <summary>A cursor over fixed extents (in MiB: offset, length, flags) that counts the queries it gets.</summary>
    private sealed class FakeContext((ulong Offset, ulong Length, uint Flags)[] extents)
    {
        private readonly NbdExtent[] _extents = extents.Select(e => new NbdExtent(e.Offset * MiB, e.Length * MiB, e.Flags)).ToArray();

        public int Queries { get; private set; }

        public List<ulong> Asked { get; } = [];

        public ExtentCursor Cursor() => new(Fetch, Size, "fake");

        public async IAsyncEnumerable<IReadOnlyList<NbdExtent>> Stream()
        {
            await Task.Yield();
            yield return _extents;
        }

        private Task<IReadOnlyList<NbdExtent>> Fetch(ulong offset, uint length, CancellationToken cancellationToken)
        {
            Queries++;
            Asked.Add(offset);
            // Like qemu: the answer starts at the offset asked, and may stop early.
            var answer = _extents.Where(e => e.End > offset && e.Offset < offset + length)
                .Select(e => e.Offset < offset ? new NbdExtent(offset, e.End - offset, e.Flags) : e)
                .Take(2)
                .ToList();
            return Task.FromResult<IReadOnlyList<NbdExtent>>(answer);
        }
    }

    private static Task<ByteRange?> FindAsync(FakeContext previous, FakeContext source, FakeContext dirty) =>
        UntrackedChangeFinder.FindAsync(previous.Stream(), source.Cursor(), dirty.Cursor(), Size, CancellationToken.None);

    [Fact]
    public async Task Data_of_the_previous_backup_that_now_reads_zero_outside_the_bitmap_is_found()
    {
        var previous = new FakeContext([(0, 40, Data), (40, 24, Zero)]);
        var source = new FakeContext([(0, 32, Data), (32, 32, Zero)]);
        var dirty = new FakeContext([(0, 64, Clean)]);

        var found = await FindAsync(previous, source, dirty);

        Assert.Equal(new ByteRange(32 * MiB, 8 * MiB), found);
    }

    [Fact]
    public async Task Zeroes_inside_the_dirty_ranges_are_the_guest_own_writes()
    {
        var previous = new FakeContext([(0, 40, Data), (40, 24, Zero)]);
        var source = new FakeContext([(0, 32, Data), (32, 32, Zero)]);
        var dirty = new FakeContext([(0, 32, Clean), (32, 8, Dirty), (40, 24, Clean)]);

        Assert.Null(await FindAsync(previous, source, dirty));
    }

    [Fact]
    public async Task A_clean_gap_inside_a_dirty_stretch_is_found_exactly()
    {
        var previous = new FakeContext([(0, 64, Data)]);
        var source = new FakeContext([(0, 16, Data), (16, 16, Zero), (32, 32, Data)]);
        var dirty = new FakeContext([(0, 18, Dirty), (18, 2, Clean), (20, 44, Dirty)]);

        var found = await FindAsync(previous, source, dirty);

        Assert.Equal(new ByteRange(18 * MiB, 2 * MiB), found);
    }

    [Fact]
    public async Task Zeroes_where_the_previous_backup_had_none_are_no_change()
    {
        var previous = new FakeContext([(0, 8, Data), (8, 56, Zero)]);
        var source = new FakeContext([(0, 8, Data), (8, 56, Zero)]);
        var dirty = new FakeContext([(0, 64, Clean)]);

        Assert.Null(await FindAsync(previous, source, dirty));
        Assert.Equal(0, dirty.Queries); // the bitmap is asked only where the disk reads zero
    }

    [Fact]
    public async Task The_disk_is_asked_only_where_the_previous_backup_has_data()
    {
        var previous = new FakeContext([(0, 1, Data), (1, 60, Zero), (61, 1, Data), (62, 2, Zero)]);
        var source = new FakeContext([(0, 64, Data)]);
        var dirty = new FakeContext([(0, 64, Clean)]);

        Assert.Null(await FindAsync(previous, source, dirty));
        Assert.Equal(0UL, source.Asked[0]);
        Assert.All(source.Asked, a => Assert.True(a < MiB || a >= 61 * MiB));
    }

    [Fact]
    public async Task Answers_that_stop_early_are_asked_again_from_where_they_ended()
    {
        // The fake answers two extents at most: the walk must ask on from there.
        var previous = new FakeContext([(0, 64, Data)]);
        var source = new FakeContext([(0, 1, Data), (1, 1, Data), (2, 1, Data), (3, 1, Data), (4, 1, Zero), (5, 59, Data)]);
        var dirty = new FakeContext([(0, 4, Clean), (4, 1, Clean), (5, 59, Clean)]);

        var found = await FindAsync(previous, source, dirty);

        Assert.Equal(new ByteRange(4 * MiB, MiB), found);
        Assert.True(source.Queries >= 3);
    }

    [Fact]
    public async Task A_cursor_refuses_an_answer_that_does_not_cover_the_offset()
    {
        var cursor = new ExtentCursor((_, _, _) => Task.FromResult<IReadOnlyList<NbdExtent>>([]), Size, "base:allocation");

        var error = await Assert.ThrowsAsync<NbdException>(async () => await cursor.AtAsync(0, CancellationToken.None));

        Assert.Contains("base:allocation", error.Message, StringComparison.Ordinal);
    }
}
