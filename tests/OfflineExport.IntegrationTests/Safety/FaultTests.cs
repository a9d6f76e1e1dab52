using System.Diagnostics;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Processes;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>Faults in the middle of an export: the daemon dies, the disk fills up, the folder is not writable.</summary>
public sealed class FaultTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    /// <summary>A disk whose whole 768 MiB of data is dirty, over an empty previous backup: a copy long enough to interrupt.</summary>
    private async Task<string> BigDirtyImageAsync()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "1G");
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x5a 0 768M");
        await CreateQcow2Async(_ws["prev.qcow2"], "1G");
        return image;
    }

    [Fact]
    public async Task Daemon_killed_mid_copy_stops_the_export_with_its_exit_status()
    {
        var image = await BigDirtyImageAsync();
        var killedAt = new TaskCompletionSource<Stopwatch>();
        var progress = new CallbackProgress<ExportProgress>(p =>
        {
            if (p.BytesDone > 0 && p.BytesDone < p.BytesTotal && !killedAt.Task.IsCompleted)
            {
                foreach (var pid in _ws.DaemonProcesses())
                {
                    Signals.Send(pid, Signals.SIGKILL);
                }

                killedAt.TrySetResult(Stopwatch.StartNew());
            }
        });
        var before = Sha256(image);
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);

        var error = await Assert.ThrowsAsync<OfflineExportException>(() => new ExportSession(_ws.Options).RunAsync(
            new ExportRequest { Image = image, Output = _ws["inc.qcow2"], Bitmaps = ["ck"], Backing = _ws["prev.qcow2"] }, progress, cts.Token));

        Assert.True(killedAt.Task.IsCompleted, "the copy finished before the daemon could be killed");
        Assert.True((await killedAt.Task).Elapsed < TimeSpan.FromSeconds(10), "the export took too long to notice the daemon's death");
        Assert.Equal(ErrorKind.QemuFailure, error.Kind);
        Assert.Contains("killed by signal 9 (SIGKILL) (exit code 137)", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Full_output_disk_fails_cleanly_with_no_space_left()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "256M");
        await IoAsync(image, "write -P 0x77 0 64M");
        var full = Directory.CreateDirectory(_ws["small"]).FullName;
        await RunProgramAsync("mount", "-t", "tmpfs", "-o", "size=16M", "tmpfs", full);
        try
        {
            var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = image, Output = Path.Combine(full, "full.qcow2") }, image);

            Assert.Equal(ErrorKind.OutputProblem, error.Kind);
            Assert.Contains("no space left", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(full));
        }
        finally
        {
            await RunProgramAsync("umount", full);
        }
    }

    [Fact]
    public async Task Output_folder_that_is_not_writable_is_refused_with_nothing_left()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        var locked = Directory.CreateDirectory(_ws["locked"]).FullName;
        // Immutable: not even root may create files in it.
        await RunProgramAsync("chattr", "+i", locked);
        try
        {
            var error = await ExportHarness.ExportFailsAsync<OfflineExportException>(_ws, new ExportRequest { Image = image, Output = Path.Combine(locked, "full.qcow2") }, image);

            Assert.Equal(ErrorKind.OutputProblem, error.Kind);
            Assert.Contains($"cannot create {Path.Combine(locked, "full.qcow2")}", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(locked));
        }
        finally
        {
            await RunProgramAsync("chattr", "-i", locked);
        }
    }
}
