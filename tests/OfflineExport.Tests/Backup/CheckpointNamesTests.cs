using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

public sealed class CheckpointNamesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 1, 30, 5, TimeSpan.Zero);

    [Fact]
    public void Create_names_the_checkpoint_after_the_utc_time_with_the_prefix()
    {
        // Act
        var name = CheckpointNames.Create(Now, []);

        // Assert
        Assert.Equal("offline-export-20261122T013005Z", name);
    }

    [Fact]
    public void Create_converts_a_local_offset_to_utc()
    {
        // Arrange: 23:30:05 on the 21st at -02:00 is 01:30:05 UTC on the 22nd.
        var local = new DateTimeOffset(2026, 11, 21, 23, 30, 5, TimeSpan.FromHours(-2));

        // Act
        var name = CheckpointNames.Create(local, []);

        // Assert
        Assert.Equal("offline-export-20261122T013005Z", name);
    }

    [Fact]
    public void Create_appends_2_when_the_name_is_taken()
    {
        // Act
        var name = CheckpointNames.Create(Now, ["offline-export-20261122T013005Z"]);

        // Assert
        Assert.Equal("offline-export-20261122T013005Z-2", name);
    }

    [Fact]
    public void Create_appends_the_first_free_number()
    {
        // Arrange
        string[] taken = ["offline-export-20261122T013005Z", "offline-export-20261122T013005Z-2", "offline-export-20261122T013005Z-3"];

        // Act
        var name = CheckpointNames.Create(Now, taken);

        // Assert
        Assert.Equal("offline-export-20261122T013005Z-4", name);
    }

    [Fact]
    public void Create_keeps_the_plain_name_when_only_other_names_are_taken()
    {
        // Arrange: a suffixed name and another second's name do not take the plain one.
        string[] taken = ["offline-export-20261122T013005Z-2", "offline-export-20261122T013004Z", "libvirt-1"];

        // Act
        var name = CheckpointNames.Create(Now, taken);

        // Assert
        Assert.Equal("offline-export-20261122T013005Z", name);
    }

    [Fact]
    public void Create_compares_taken_names_case_sensitively()
    {
        // Act
        var name = CheckpointNames.Create(Now, ["OFFLINE-EXPORT-20261122T013005Z"]);

        // Assert
        Assert.Equal("offline-export-20261122T013005Z", name);
    }

    [Fact]
    public void IsOwn_recognises_a_created_name()
    {
        // Arrange
        var name = CheckpointNames.Create(Now, ["offline-export-20261122T013005Z"]);

        // Act
        var own = CheckpointNames.IsOwn(name);

        // Assert
        Assert.True(own);
    }

    [Theory]
    [InlineData("offline-export-20261122T013005Z", true)]
    [InlineData("offline-export-20261122T013005Z-2", true)]
    [InlineData("offline-export-", true)]
    [InlineData("offline-export", false)]
    [InlineData("libvirt-checkpoint-1", false)]
    [InlineData("my-offline-export-20261122T013005Z", false)]
    [InlineData("Offline-Export-20261122T013005Z", false)]
    [InlineData("", false)]
    public void IsOwn_is_true_only_for_names_starting_with_the_prefix(string name, bool expected)
    {
        // Act
        var own = CheckpointNames.IsOwn(name);

        // Assert
        Assert.Equal(expected, own);
    }
}
