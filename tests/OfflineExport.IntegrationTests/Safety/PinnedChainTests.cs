using System.Text.RegularExpressions;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// A restore reads exactly the files it checked: once a point's chain is opened and examined, swapping
/// its files in the folder (for a point whose header names a host file) changes nothing qemu reads.
/// </summary>
public sealed class PinnedChainTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["backups"];

    private async Task<(DiskRecord Disk, string Image)> TwoPointsAsync()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x21 0 2M");
        await BackupAsync(image);
        await IoAsync(image, "write -P 0x23 1M 2M");
        await BackupAsync(image);
        return (ManifestStore.Load(Folder).Disks.Single(), image);
    }

    private async Task BackupAsync(string image)
    {
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2");
        Assert.True(code == 0, stderr);
    }

    /// <summary>Puts, under the point's name, a qcow2 of the same size backed by a host file full of 'S'.</summary>
    private async Task SwapForHostileAsync(string point)
    {
        var secret = _ws["secret.raw"];
        if (!File.Exists(secret))
        {
            await File.WriteAllBytesAsync(secret, Enumerable.Repeat((byte)'S', 64 << 20).ToArray());
        }

        File.Move(point, point + ".moved");
        await ImgAsync("create", "-q", "-f", "qcow2", "-b", secret, "-F", "raw", point, "64M");
    }

    [Fact]
    public async Task Files_swapped_after_the_checks_are_not_what_qemu_reads()
    {
        var (disk, image) = await TwoPointsAsync();
        var qemuImg = new QemuImg("qemu-img");
        var output = _ws["restored.qcow2"];

        using (var chain = PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore"))
        {
            Assert.Equal(2, await chain.RequireChecksumsAsync(disk, "restore", CancellationToken.None));
            await SwapForHostileAsync(Path.Combine(Folder, disk.Points[1].File));
            await SwapForHostileAsync(Path.Combine(Folder, disk.Points[0].File));

            await qemuImg.ConvertToQcow2Async(chain.QemuName, "qcow2", output, CancellationToken.None);
        }

        // What the names lead to now is the host file; what was read is the disk as it was backed up.
        var swapped = await ImgUncheckedAsync("compare", "-f", "qcow2", "-F", "qcow2", Path.Combine(Folder, disk.Points[1].File), image);
        var restored = await ImgUncheckedAsync("compare", "-f", "qcow2", "-F", "qcow2", output, image);
        Assert.Equal(1, swapped.ExitCode);
        Assert.True(restored.ExitCode == 0, restored.StandardOutput + restored.StandardError);
    }

    [Fact]
    public async Task A_point_swapped_before_the_chain_is_opened_is_examined_as_it_is_then()
    {
        var (disk, _) = await TwoPointsAsync();
        await SwapForHostileAsync(Path.Combine(Folder, disk.Points[0].File));

        var refusal = Assert.Throws<OfflineExportException>(() => PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore"));

        Assert.Equal(ErrorKind.DamagedPoint, refusal.Kind);
        // The hostile file differs in size from the point it replaced: that is found first.
        Assert.Contains($"it needs point 0 ({disk.Points[0].File}), which is damaged: its file is ", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("(truncated, extended or replaced)", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_point_made_a_symlink_to_its_own_copy_is_refused_as_a_symlink()
    {
        var (disk, _) = await TwoPointsAsync();
        var point = Path.Combine(Folder, disk.Points[1].File);
        File.Move(point, _ws["elsewhere.qcow2"]);
        File.CreateSymbolicLink(point, _ws["elsewhere.qcow2"]);

        var refusal = Assert.Throws<OfflineExportException>(() => PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore"));

        Assert.Contains("is damaged: its file is not a regular file (a symlink or a special file)", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_point_someone_else_could_rewrite_in_place_is_refused()
    {
        // Held, a file cannot be swapped; but its owner, or anyone it lets write, could rewrite its header to name a host file after the checks.
        var (disk, _) = await TwoPointsAsync();
        var top = Path.Combine(Folder, disk.Points[1].File);
        var full = Path.Combine(Folder, disk.Points[0].File);
        await RunProgramAsync("chown", "65534", full);
        var foreign = Assert.Throws<OfflineExportException>(() => PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore"));
        await RunProgramAsync("chown", "0", full);
        File.SetUnixFileMode(top, File.GetUnixFileMode(top) | UnixFileMode.GroupWrite);
        var groupWritable = Assert.Throws<OfflineExportException>(() => PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore"));
        File.SetUnixFileMode(top, File.GetUnixFileMode(top) & ~UnixFileMode.GroupWrite);

        Assert.Equal(ErrorKind.BackupFolderProblem, foreign.Kind);
        Assert.Equal($"cannot restore point 1 of {disk.Name}: {full} could be changed while it is read: it belongs to user id 65534, not to this user (id 0) or root; run as its owner, or make it yours and not writable by others (chown, chmod go-w)", foreign.Message);
        Assert.Contains($"{top} could be changed while it is read: its group may write it", groupWritable.Message, StringComparison.Ordinal);
        using var sound = PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore");
        Assert.Equal(2, sound.Count);
    }

    [Fact]
    public async Task Qemu_messages_name_the_point_files_not_the_held_descriptors()
    {
        var (disk, _) = await TwoPointsAsync();
        using var chain = PinnedPointChain.Open(Folder, disk, disk.Points[1], "restore");
        // The description holds the top's descriptor first, then its backing's.
        var held = Regex.Matches(chain.QemuName, "/proc/[0-9]+/fd/[0-9]+").Select(m => m.Value).ToList();

        var text = chain.Readable($"Could not open '{chain.QemuName}': {held[0]} and {held[1]}");

        Assert.Equal(2, held.Count);
        Assert.Equal($"Could not open '{Path.Combine(Folder, disk.Points[1].File)}': {Path.Combine(Folder, disk.Points[1].File)} and {Path.Combine(Folder, disk.Points[0].File)}", text);
    }
}
