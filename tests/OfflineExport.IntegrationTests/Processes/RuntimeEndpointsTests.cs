using System.Diagnostics;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Processes;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Processes;

/// <summary>The .NET runtime's endpoints that a SIGKILLed run leaves in the temp folder are removed by the next run, whatever its verb.</summary>
public sealed class RuntimeEndpointsTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task The_next_run_removes_a_dead_runs_pipes_and_socket_and_leaves_a_live_ones()
    {
        using var gone = Process.Start("true")!;
        await gone.WaitForExitAsync();
        var live = ProcessIdentity.Current;
        string[] dead = [$"clr-debug-pipe-{gone.Id}-12345-in", $"clr-debug-pipe-{gone.Id}-12345-out", $"dotnet-diagnostic-{gone.Id}-12345-socket"];
        var alive = $"clr-debug-pipe-{live.Pid}-{live.StartTicks}-in";
        foreach (var name in dead.Append(alive))
        {
            await MakeFifoAsync(Path.Combine(_ws.WorkDirectory, name));
        }

        var (code, _, _) = await CliProcess.RunAsync(_ws, "list", _ws["no-such-folder"]);

        Assert.Equal(9, code);
        Assert.Equal([alive], Directory.EnumerateFileSystemEntries(_ws.WorkDirectory).Select(Path.GetFileName));
        File.Delete(Path.Combine(_ws.WorkDirectory, alive));
    }
}
