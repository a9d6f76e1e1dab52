using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

public sealed class CheckpointOwnershipTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 1, 30, 0, TimeSpan.Zero);

    private static readonly FolderRecord Original = new() { Id = "1a2b3c4d00000000000000000000000a", Inode = 7 };

    private static readonly FolderRecord Copy = new() { Id = "5e6f708100000000000000000000000b", Inode = 8, CopiedFrom = [Original.Id] };

    [Fact]
    public void Two_folders_in_the_same_second_make_different_names()
    {
        var first = CheckpointNames.Create(Now, Original.Tag, []);
        var second = CheckpointNames.Create(Now, Copy.Tag, []);

        Assert.Equal("offline-export-1a2b3c4d-20261122T013000Z", first);
        Assert.Equal("offline-export-5e6f7081-20261122T013000Z", second);
    }

    [Fact]
    public void A_taken_tagged_name_gets_a_counter()
    {
        var name = CheckpointNames.Create(Now, Original.Tag, ["offline-export-1a2b3c4d-20261122T013000Z"]);

        Assert.Equal("offline-export-1a2b3c4d-20261122T013000Z-2", name);
        Assert.Equal("1a2b3c4d", CheckpointNames.TagOf(name));
    }

    [Theory]
    [InlineData("offline-export-20261122T013000Z")]
    [InlineData("offline-export-20261122T013000Z-3")]
    [InlineData("libvirt-checkpoint")]
    public void Untagged_names_have_no_tag(string name) => Assert.Null(CheckpointNames.TagOf(name));

    [Fact]
    public void A_folder_owns_its_tagged_names_and_untagged_ones_unless_it_is_a_copy()
    {
        var originals = "offline-export-1a2b3c4d-20261122T013000Z";
        var copies = "offline-export-5e6f7081-20261122T013000Z";
        var legacy = "offline-export-20261101T010000Z";

        Assert.True(CheckpointNames.BelongsTo(originals, Original));
        Assert.True(CheckpointNames.BelongsTo(legacy, Original));
        Assert.False(CheckpointNames.BelongsTo(copies, Original));
        Assert.True(CheckpointNames.BelongsTo(copies, Copy));
        Assert.False(CheckpointNames.BelongsTo(originals, Copy));
        Assert.False(CheckpointNames.BelongsTo(legacy, Copy));
        Assert.False(CheckpointNames.BelongsTo("libvirt-1", Original));
        Assert.True(CheckpointNames.BelongsTo(legacy, null));
    }
}
