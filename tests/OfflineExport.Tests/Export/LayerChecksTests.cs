using OfflineExport.Export;
using OfflineExport.Qemu;

namespace OfflineExport.Tests.Export;

public sealed class LayerChecksTests
{
    private const string Layer = "/var/lib/vm/vda.qcow2";

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Clean_layer_and_layer_with_only_leaks_pass(int exitCode)
    {
        // Arrange
        var result = new ImageCheckResult(exitCode, new ImageCheckReport { Leaks = exitCode == 3 ? 5 : 0 }, null);

        // Act
        var ex = Record.Exception(() => LayerChecks.Judge(Layer, result));

        // Assert
        Assert.Null(ex);
    }

    [Fact]
    public void Corruptions_are_refused_with_their_count_and_the_first_finding()
    {
        // Arrange
        var finding = "ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x50000 size 0x10000";
        var result = new ImageCheckResult(2, new ImageCheckReport { Corruptions = 64 }, finding);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => LayerChecks.Judge(Layer, result));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Equal(
            $"{Layer} is damaged (qemu-img check found 64 corruptions: {finding}); it cannot be backed up as it is: inspect it with 'qemu-img check -f qcow2 {Layer}'",
            ex.Message);
    }

    [Fact]
    public void One_corruption_is_counted_in_the_singular()
    {
        // Arrange
        var result = new ImageCheckResult(2, new ImageCheckReport { Corruptions = 1 }, null);

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => LayerChecks.Judge(Layer, result));

        // Assert
        Assert.Contains("found 1 corruption)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_that_could_not_complete_is_refused_with_qemus_words()
    {
        // Arrange
        var result = new ImageCheckResult(1, null, "Could not open '/var/lib/vm/vda.qcow2': qcow2 header too short");

        // Act
        var ex = Assert.Throws<OfflineExportException>(() => LayerChecks.Judge(Layer, result));

        // Assert
        Assert.Equal(ErrorKind.InvalidImage, ex.Kind);
        Assert.Equal($"{Layer} could not be checked (qemu-img check exit code 1: Could not open '/var/lib/vm/vda.qcow2': qcow2 header too short); it cannot be backed up as it is", ex.Message);
    }

    [Fact]
    public async Task A_top_check_started_ahead_is_the_one_judged_and_no_second_check_runs()
    {
        // Arrange: a qemu-img that cannot run; any check started here would fail differently.
        var ahead = Task.FromResult(new ImageCheckResult(2, new ImageCheckReport { Corruptions = 1 }, "ERROR: bad L2"));

        // Act
        var ex = await Assert.ThrowsAsync<OfflineExportException>(() => LayerChecks.RunAsync(new QemuImg("/nonexistent/qemu-img"), [ChainBuilder.Qcow2(Layer)], ahead, CancellationToken.None));

        // Assert
        Assert.StartsWith($"{Layer} is damaged (qemu-img check found 1 corruption: ERROR: bad L2)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_top_check_started_ahead_that_was_not_needed_is_waited_for_and_its_outcome_ignored()
    {
        // Arrange: qemu-img saw a raw top after all.
        var ahead = new TaskCompletionSource<ImageCheckResult>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Act
        var run = LayerChecks.RunAsync(new QemuImg("/nonexistent/qemu-img"), [ChainBuilder.Raw(Layer)], ahead.Task, CancellationToken.None);
        await Task.Delay(100);
        var endedBeforeIt = run.IsCompleted;
        ahead.SetException(new IOException("killed"));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: no qemu-img outlives the checks, and a check that did not matter fails nothing.
        Assert.False(endedBeforeIt);
    }
}
