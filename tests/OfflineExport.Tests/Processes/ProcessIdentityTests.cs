using System.Diagnostics;
using OfflineExport.Processes;

namespace OfflineExport.Tests.Processes;

public sealed class ProcessIdentityTests
{
    [Fact]
    public void Current_process_is_running_and_a_changed_start_time_names_another_process()
    {
        var current = ProcessIdentity.Current;

        Assert.Equal(Environment.ProcessId, current.Pid);
        Assert.True(current.StartTicks > 0);
        Assert.True(current.IsRunning);
        Assert.False((current with { StartTicks = current.StartTicks + 1 }).IsRunning);
    }

    [Fact]
    public void A_killed_process_is_no_longer_running()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        var identity = ProcessIdentity.Of(process.Id);
        Assert.NotNull(identity);
        Assert.True(identity.IsRunning);

        process.Kill();
        process.WaitForExit();

        Assert.False(identity.IsRunning);
        Assert.Null(ProcessIdentity.Of(-1));
    }
}
