using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

public sealed class DaemonDeathTests
{
    [Fact]
    public void Exit_code_137_is_reported_as_killed_by_sigkill_with_the_tail()
    {
        // Arrange
        const string tail = "qemu-storage-daemon: terminating on signal 9";

        // Act
        var ex = DaemonDeath.Error(137, tail);

        // Assert
        Assert.Contains("signal 9", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SIGKILL", ex.Message, StringComparison.Ordinal);
        Assert.Contains("137", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith(tail, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("qemu-storage-daemon ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.QemuFailure, ex.Kind);
    }

    [Fact]
    public void Exit_code_143_is_reported_as_sigterm()
    {
        // Act
        var ex = DaemonDeath.Error(143, string.Empty);

        // Assert
        Assert.Contains("signal 15", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SIGTERM", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ordinary_exit_code_is_reported_without_a_signal()
    {
        // Arrange
        const string tail = "qemu-storage-daemon: --blockdev node-name=x: Could not open '/nope': No such file or directory";

        // Act
        var ex = DaemonDeath.Error(1, tail);

        // Assert
        Assert.Equal("qemu-storage-daemon exited with code 1: " + tail, ex.Message);
        Assert.DoesNotContain("signal", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_tail_leaves_no_dangling_colon()
    {
        // Act
        var ex = DaemonDeath.Error(137, string.Empty);

        // Assert
        Assert.False(ex.Message.EndsWith(':'));
        Assert.DoesNotContain(": ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inner_exception_is_kept()
    {
        // Arrange
        var inner = new IOException("Broken pipe");

        // Act
        var ex = DaemonDeath.Error(137, "tail", inner);

        // Assert
        Assert.Same(inner, ex.InnerException);
    }
}
