using System.Text.Json;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// A backup stopped (SIGTERM, a terminal's Ctrl-C) while qemu-img writes its new checkpoint into the disk. qemu-img
/// marks every bitmap of an image in use while it holds it open for writing: killed half way, it left all of them
/// unusable, libvirt's checkpoints included, and the next backup made a full point. The write now runs to its end
/// in a session of its own, and the run then stops and removes that checkpoint.
/// </summary>
public sealed class InterruptedCheckpointTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    /// <summary>
    /// A qemu-img for the program under test that, for <c>bitmap --add</c>, leaves <paramref name="marker"/> and then
    /// takes 300 ms for each of its data syncs (strace's fault injection): about 2 s with the image open for writing.
    /// </summary>
    private string SlowCheckpointWriter(string marker) => QemuImgWith(
        $"""[ "$2" = --add ] && touch '{marker}' && exec strace -f -o /dev/null -e trace=fdatasync -e inject=fdatasync:delay_enter=300000 /usr/bin/qemu-img "$@" """);

    /// <summary>A qemu-img for the program under test that runs <paramref name="onBitmap"/> (shell) first for every <c>bitmap</c> command, then the real one.</summary>
    private string QemuImgWith(string onBitmap)
    {
        var script = _ws["bitmap-qemu-img"];
        File.WriteAllText(script, $$"""
            #!/bin/sh
            if [ "$1" = bitmap ]; then
              {{onBitmap}}
            fi
            exec /usr/bin/qemu-img "$@"
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return script;
    }

    /// <summary>Every bitmap of <paramref name="image"/>'s top with its flags.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> BitmapFlagsAsync(string image)
    {
        var data = (await InfoAsync(image)).GetProperty("format-specific").GetProperty("data");
        return data.TryGetProperty("bitmaps", out var bitmaps)
            ? bitmaps.EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!, b => string.Join(",", b.GetProperty("flags").EnumerateArray().Select(f => f.GetString())))
            : new Dictionary<string, string>();
    }

    [Theory]
    [InlineData(Signals.SIGTERM, 143, false)] // to the program alone, as a supervisor or kill PID sends it
    [InlineData(Signals.SIGINT, 130, true)] // to its whole process group, as a terminal's Ctrl-C
    public async Task A_backup_stopped_while_its_checkpoint_is_written_leaves_every_checkpoint_usable(int signal, int expectedCode, bool wholeGroup)
    {
        // Arrange: a disk with libvirt's checkpoint and a folder with one point.
        var disk = _ws["vda.qcow2"];
        await CreateQcow2Async(disk, "64M");
        await IoAsync(disk, "write -P 0x11 0 8M");
        await AddBitmapAsync(disk, "libvirt-ckpt");
        var first = await CliProcess.RunAsync(_ws, "backup", disk, "--format", "qcow2", "--target", _ws["bk"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var before = await BitmapFlagsAsync(disk);
        await IoAsync(disk, "write -P 0x22 1M 1M");
        var marker = _ws["adding"];

        // Act: stop the next backup while qemu-img has the disk open to add its checkpoint.
        await using (var cli = CliProcess.Start(_ws, ["backup", disk, "--format", "qcow2", "--target", _ws["bk"]], ownSession: wholeGroup,
            environment: new Dictionary<string, string> { ["OFFLINE_EXPORT_Tools__QemuImg"] = SlowCheckpointWriter(marker) }))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (!File.Exists(marker) && DateTime.UtcNow < deadline && !cli.HasExited)
            {
                await Task.Delay(20);
            }

            Assert.True(File.Exists(marker), cli.StandardError);
            await Task.Delay(500); // inside the write: it takes about 2 s
            Signals.Send(wholeGroup ? -cli.Id : cli.Id, signal);
            var code = await cli.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(code == expectedCode, $"exit {code}: {cli.StandardError}");
        }

        var after = await BitmapFlagsAsync(disk);
        var next = await CliProcess.RunAsync(_ws, "backup", disk, "--format", "qcow2", "--target", _ws["bk"], "--verify");

        // Assert: the checkpoints are as they were (the run's own removed), the image is clean, and the next point is incremental.
        Assert.Equal(before.OrderBy(b => b.Key), after.OrderBy(b => b.Key));
        Assert.All(after.Values, flags => Assert.DoesNotContain("in-use", flags, StringComparison.Ordinal));
        Assert.Equal(0, await CheckAsync(disk));
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Contains("made point 1 (inc", next.Stdout + next.Stderr, StringComparison.Ordinal);
        _ws.AssertNothingLeftBehind();
    }

    [Theory]
    [InlineData("exit 1", 8)] // qemu-img refused: nothing was written, nothing is left
    [InlineData("exec sleep 600", 8)] // its storage stopped answering: stalled once, and no removal waits as long again
    public async Task A_checkpoint_that_could_not_be_added_is_undone_once_or_left_to_the_next_run(string bitmap, int expectedCode)
    {
        // Arrange: a disk with one point.
        var disk = _ws["vda.qcow2"];
        await CreateQcow2Async(disk, "64M");
        await IoAsync(disk, "write -P 0x11 0 8M");
        var first = await CliProcess.RunAsync(_ws, "backup", disk, "--format", "qcow2", "--target", _ws["bk"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var before = await BitmapFlagsAsync(disk);
        var stalls = bitmap.Contains("sleep", StringComparison.Ordinal);

        // Act
        await using var cli = CliProcess.Start(_ws, ["backup", disk, "--format", "qcow2", "--target", _ws["bk"], "--verbose"],
            environment: new Dictionary<string, string> { ["OFFLINE_EXPORT_Tools__QemuImg"] = QemuImgWith(bitmap), ["OFFLINE_EXPORT_Qemu__ProgressTimeoutSeconds"] = "2" });
        var code = await cli.WaitAsync(TimeSpan.FromMinutes(1));
        var record = File.Exists(Path.Combine(_ws["bk"], OfflineExport.Backup.BackupRunRecord.FileName));
        var afterFailure = await BitmapFlagsAsync(disk);
        var next = await CliProcess.RunAsync(_ws, "backup", disk, "--format", "qcow2", "--target", _ws["bk"]);

        // Assert
        Assert.True(code == expectedCode, cli.StandardError);
        Assert.Equal(1, cli.StandardError.Split('\n').Count(l => l.Contains(" run [", StringComparison.Ordinal) && l.Contains("bitmap-qemu-img bitmap", StringComparison.Ordinal))); // the add; no removal after a stall
        Assert.Equal(stalls, record); // a stalled add stays listed for the next run; a refused one left nothing
        Assert.Equal(stalls, cli.StandardError.Contains($"the next backup into {_ws["bk"]} removes it", StringComparison.Ordinal));
        Assert.Equal(before, afterFailure);
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.Contains("made point 1 (inc", next.Stdout + next.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_ws["bk"], OfflineExport.Backup.BackupRunRecord.FileName)));
        _ws.AssertNothingLeftBehind();
    }
}
