using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// A backup folder that cannot take more (full, out of inodes, mounted read-only) and a disk that
/// cannot take a checkpoint (issue #10): each is its documented exit code with the real cause, never
/// "a bug" or "in use", and the folder, the disk and its checkpoints stay as they were.
/// </summary>
public sealed class FolderFaultTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Mount => _ws["mnt"];

    private string Folder => Path.Combine(Mount, "bk");

    /// <summary>A 16 MiB disk with one point in a folder on a fresh tmpfs, and a change since.</summary>
    private async Task<string> DiskWithOnePointOnTmpfsAsync()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x11 0 1M");
        Directory.CreateDirectory(Mount);
        await RunProgramAsync("mount", "-t", "tmpfs", "-o", "size=64M,nr_inodes=1000", "tmpfs", Mount);
        try
        {
            var first = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--quiet");
            Assert.True(first.ExitCode == 0, first.Stderr);
            await IoAsync(image, "write -P 0x22 0 64k");
            return image;
        }
        catch
        {
            // The tests unmount in their own finally; a failed set-up must not leave the mount behind.
            await UnmountAsync();
            throw;
        }
    }

    /// <summary>Writes <paramref name="path"/> until its file system has no block left.</summary>
    private static void FillUp(string path)
    {
        using var filler = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        var block = new byte[64 << 10];
        Array.Fill(block, (byte)0xee);
        try
        {
            while (true)
            {
                filler.Write(block);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // Full: that is the point.
        }
    }

    private Task UnmountAsync() => RunProgramAsync("umount", Mount);

    /// <summary>Every file of the folder with its bytes' digest: a failed run must leave exactly this.</summary>
    private IReadOnlyList<string> FolderState() =>
        Directory.EnumerateFiles(Folder, "*", new EnumerationOptions { AttributesToSkip = 0 })
            .Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f) + "=" + Sha256(f)).ToList();

    [Fact]
    public async Task Full_folder_is_exit_6_no_space_and_the_folder_and_disk_stay_as_they_were()
    {
        var image = await DiskWithOnePointOnTmpfsAsync();
        try
        {
            FillUp(Path.Combine(Mount, "filler"));
            var state = FolderState();
            var bitmaps = await BitmapNamesAsync(image);

            var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);

            Assert.Equal(6, code);
            Assert.Contains("No space left on device", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(" : '", stderr, StringComparison.Ordinal);
            Assert.Equal(state, FolderState());
            Assert.Equal(bitmaps, await BitmapNamesAsync(image));
        }
        finally
        {
            await UnmountAsync();
        }

        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task No_room_for_the_manifest_is_exit_6_and_the_point_and_checkpoint_are_undone()
    {
        var image = await DiskWithOnePointOnTmpfsAsync();
        try
        {
            // Out of inodes two files on: the run record and the point fit, the manifest's new copy does not.
            var used = Directory.EnumerateFileSystemEntries(Mount, "*", SearchOption.AllDirectories).Count() + 1;
            await RunProgramAsync("mount", "-o", $"remount,nr_inodes={used + 2}", Mount);
            var state = FolderState();
            var bitmaps = await BitmapNamesAsync(image);
            // A checkpoint was added and taken out again: the file's bytes moved, the guest's did not.
            var sum = await GuestSha256Async(image);

            var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);

            Assert.Equal(6, code);
            Assert.Contains($"cannot write {Path.Combine(Folder, ManifestStore.FileName)}: No space left on device", stderr, StringComparison.Ordinal);
            Assert.Equal(state, FolderState());
            Assert.Equal(bitmaps, await BitmapNamesAsync(image));
            Assert.Equal(sum, await GuestSha256Async(image));
            Assert.Equal(0, await CheckAsync(image));
        }
        finally
        {
            await UnmountAsync();
        }

        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Read_only_folder_is_exit_6_with_its_cause_and_still_lists_and_restores()
    {
        var image = await DiskWithOnePointOnTmpfsAsync();
        var restored = _ws["restored.qcow2"];
        try
        {
            await RunProgramAsync("mount", "-o", "remount,ro", Mount);
            var state = FolderState();
            var bitmaps = await BitmapNamesAsync(image);

            var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);
            var list = await CliProcess.RunAsync(_ws, "list", Folder);
            var restore = await CliProcess.RunAsync(_ws, "restore", Folder, restored);

            Assert.Equal(6, backup.ExitCode);
            Assert.Contains($"cannot write to backup folder {Folder}: Read-only file system", backup.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("in use", backup.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, list.ExitCode);
            Assert.Equal(0, restore.ExitCode);
            Assert.Equal(0, await CompareAsync(restored, Path.Combine(Folder, "vda.0.full.qcow2")));
            Assert.Equal(state, FolderState());
            Assert.Equal(bitmaps, await BitmapNamesAsync(image));
        }
        finally
        {
            await UnmountAsync();
        }

        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Disk_that_cannot_take_a_checkpoint_is_exit_3_saying_why_and_export_still_copies_it()
    {
        var vm = Directory.CreateDirectory(_ws["vm"]).FullName;
        var image = Path.Combine(vm, "vda.qcow2");
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x33 0 1M");
        var sum = Sha256(image);
        // Readable, not writable, even for root: a read-only bind mount of the VM's folder.
        var readOnly = Directory.CreateDirectory(_ws["vm-ro"]).FullName;
        await RunProgramAsync("mount", "--bind", vm, readOnly);
        try
        {
            await RunProgramAsync("mount", "-o", "remount,ro,bind", readOnly);
            var seen = Path.Combine(readOnly, "vda.qcow2");

            var backup = await CliProcess.RunAsync(_ws, "backup", seen, "--target", _ws["bk"]);
            var export = await CliProcess.RunAsync(_ws, "export", seen, _ws["full.qcow2"]);

            Assert.Equal(3, backup.ExitCode);
            Assert.Contains($"vda: backup adds a checkpoint (a dirty bitmap) to {seen} and cannot write it: Read-only file system", backup.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_ws["bk"], "vda.0.full.qcow2")));
            Assert.Equal(0, export.ExitCode);
            Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image));
        }
        finally
        {
            await RunProgramAsync("umount", readOnly);
        }

        Assert.Equal(sum, Sha256(image));
        Assert.Empty(await BitmapNamesAsync(image));
        _ws.AssertNothingLeftBehind();
    }
}
