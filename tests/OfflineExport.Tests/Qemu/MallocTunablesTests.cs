using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

/// <summary>The daemon's malloc tunables, alone or ahead of an operator's own.</summary>
public sealed class MallocTunablesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_an_operator_value_the_daemon_gets_ours_alone(string? existing) =>
        Assert.Equal(StorageDaemon.MallocTunables, StorageDaemon.MallocTunablesWith(existing));

    [Fact]
    public void An_operator_value_comes_after_ours_so_that_it_wins_where_both_name_a_tunable() =>
        Assert.Equal($"{StorageDaemon.MallocTunables}:glibc.pthread.rseq=0", StorageDaemon.MallocTunablesWith("glibc.pthread.rseq=0"));
}
