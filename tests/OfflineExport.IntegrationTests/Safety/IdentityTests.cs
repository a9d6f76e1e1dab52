using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Files are compared by identity, not by spelling: symlinked folders and files never let an export or
/// a restore replace a source disk, a previous backup or a point; nothing the folder did not make is
/// replaced; a manifest or a point header never points the tool outside the folder.
/// </summary>
public sealed class IdentityTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["backups"];

    private async Task<string> DiskAsync(string name = "vda.qcow2")
    {
        var image = _ws[name];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x21 0 2M");
        return image;
    }

    private async Task BackupAsync(string image, params string[] extra)
    {
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, ["backup", image, "--target", Folder, "--format", "qcow2", .. extra]);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task Force_through_a_symlinked_folder_never_replaces_the_source_disk()
    {
        var image = await DiskAsync();
        Directory.CreateSymbolicLink(_ws["alias"], _ws.Root);
        var before = Sha256(image);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, Path.Combine(_ws["alias"], "vda.qcow2"), "--force");

        Assert.Equal(6, code);
        Assert.Contains("is part of the source chain (it is " + image + " by another name); refusing to overwrite it", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Force_onto_a_symlink_to_the_previous_backup_is_refused()
    {
        var image = await DiskAsync();
        await ImgAsync("convert", "-O", "qcow2", image, _ws["prev.qcow2"]);
        await AddBitmapAsync(image, "ck");
        File.CreateSymbolicLink(_ws["link.qcow2"], _ws["prev.qcow2"]);
        var previous = Sha256(_ws["prev.qcow2"]);
        var before = Sha256(image);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["link.qcow2"], "--force", "--bitmap", "ck", "--backing", _ws["prev.qcow2"], "--format", "qcow2");

        Assert.Equal(6, code);
        Assert.Contains($"output {_ws["link.qcow2"]} is a symbolic link, not a regular file", stderr, StringComparison.Ordinal);
        Assert.Equal(previous, Sha256(_ws["prev.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Backing_that_is_the_image_itself_is_refused_with_exit_2()
    {
        var image = await DiskAsync();
        await AddBitmapAsync(image, "ck");
        Directory.CreateSymbolicLink(_ws["alias"], _ws.Root);
        var before = Sha256(image);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, _ws["inc.qcow2"], "--bitmap", "ck", "--backing", Path.Combine(_ws["alias"], "vda.qcow2"), "--format", "qcow2");

        Assert.Equal(2, code);
        Assert.Contains("is not a backup: it is " + image + ", a layer of the image's own chain", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["inc.qcow2"]));
        Assert.Equal(before, Sha256(image));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Restore_force_onto_a_point_of_the_folder_even_by_symlink_or_hard_link_is_refused()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        await IoAsync(image, "write -P 0x22 0 1M");
        await BackupAsync(image);
        var points = ManifestStore.Load(Folder).Disks.Single().Points;
        var first = Path.Combine(Folder, points[0].File);
        File.CreateSymbolicLink(_ws["point-link.qcow2"], first);
        var sums = Sha256All(first, Path.Combine(Folder, points[1].File));

        var direct = await CliProcess.RunAsync(_ws, "restore", Folder, first, "--force");
        var linked = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["point-link.qcow2"], "--force", "--point", "1");
        // A hard link is a regular file: only the identity check can tell it is the point.
        using (var ln = System.Diagnostics.Process.Start("ln", [first, _ws["point-hard.qcow2"]]))
        {
            await ln.WaitForExitAsync();
            Assert.Equal(0, ln.ExitCode);
        }

        var hard = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["point-hard.qcow2"], "--force", "--point", "1");
        File.Delete(_ws["point-hard.qcow2"]);

        Assert.Equal(6, direct.ExitCode);
        Assert.Contains($"output {first} is a file of the backup folder {Folder} (it holds manifest.json); only backup and forget change a backup folder's files", direct.Stderr, StringComparison.Ordinal);
        Assert.Equal(6, linked.ExitCode);
        Assert.Contains($"output {_ws["point-link.qcow2"]} is a symbolic link, not a regular file", linked.Stderr, StringComparison.Ordinal);
        Assert.Equal(6, hard.ExitCode);
        Assert.Contains($"is {first}, a file of the backup folder", hard.Stderr, StringComparison.Ordinal);
        Assert.Equal(sums, Sha256All(first, Path.Combine(Folder, points[1].File)));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Export_force_onto_a_point_of_a_backup_folder_is_refused()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        var point = Path.Combine(Folder, ManifestStore.Load(Folder).Disks.Single().Points[0].File);
        var sum = Sha256(point);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "export", image, point, "--force", "--format", "qcow2");

        Assert.Equal(6, code);
        Assert.Contains($"output {point} is a file of the backup folder {Folder} (it holds manifest.json)", stderr, StringComparison.Ordinal);
        Assert.Equal(sum, Sha256(point));
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "check", Folder)).ExitCode);
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Backing_up_a_point_directly_or_by_a_symlink_or_a_hard_link_is_refused_and_the_point_stays_intact()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        var point = Path.Combine(Folder, ManifestStore.Load(Folder).Disks.Single().Points[0].File);
        File.CreateSymbolicLink(_ws["point-link.qcow2"], point);
        var sum = Sha256(point);

        var own = await CliProcess.RunAsync(_ws, "backup", point, "--target", Folder, "--format", "qcow2");
        var other = await CliProcess.RunAsync(_ws, "backup", _ws["point-link.qcow2"], "--target", _ws["other"], "--format", "qcow2");
        // A hard link is the point under a name outside the folder: only its link count can tell.
        Directory.CreateDirectory(_ws["elsewhere"]);
        await RunProgramAsync("ln", point, Path.Combine(_ws["elsewhere"], "disk.qcow2"));
        var hard = await CliProcess.RunAsync(_ws, "backup", Path.Combine(_ws["elsewhere"], "disk.qcow2"), "--target", _ws["third"], "--format", "qcow2");
        File.Delete(Path.Combine(_ws["elsewhere"], "disk.qcow2"));

        Assert.Equal(3, own.ExitCode);
        Assert.Contains($"{point} is a point of the backup folder {Folder}, not a VM's disk", own.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, other.ExitCode);
        Assert.Contains($"is a point of the backup folder {Folder}, not a VM's disk", other.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, hard.ExitCode);
        Assert.Contains("disk.qcow2 has 2 names (hard links); a backup writes a checkpoint into it", hard.Stderr, StringComparison.Ordinal);
        Assert.Equal(sum, Sha256(point));
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "check", Folder)).ExitCode);
    }

    [Fact]
    public async Task Backing_up_a_point_bind_mounted_over_a_disk_name_is_refused_and_the_point_stays_intact()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        var point = Path.Combine(Folder, ManifestStore.Load(Folder).Disks.Single().Points[0].File);
        var sum = Sha256(point);
        // The same inode with one link under a name outside the folder: only its mount tells.
        Directory.CreateDirectory(_ws["elsewhere"]);
        var disguise = Path.Combine(_ws["elsewhere"], "disk.qcow2");
        await File.WriteAllBytesAsync(disguise, []);
        await RunProgramAsync("mount", "--bind", point, disguise);
        (int ExitCode, string Stdout, string Stderr) bound;
        try
        {
            bound = await CliProcess.RunAsync(_ws, "backup", disguise, "--target", _ws["other"], "--format", "qcow2");
        }
        finally
        {
            await RunProgramAsync("umount", disguise);
        }

        Assert.Equal(3, bound.ExitCode);
        Assert.Contains($"{disguise} is a file bind-mounted from elsewhere; a backup writes a checkpoint into it", bound.Stderr, StringComparison.Ordinal);
        Assert.Single(bound.Stderr.TrimEnd().Split('\n'));
        Assert.Equal(sum, Sha256(point));
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "check", Folder)).ExitCode);
        // A disk in a bind-mounted folder (a common layout) is no bind-mounted file: it still backs up.
        Directory.CreateDirectory(_ws["images"]);
        await CreateQcow2Async(Path.Combine(_ws["images"], "vdb.qcow2"), "16M");
        Directory.CreateDirectory(_ws["mounted-folder"]);
        await RunProgramAsync("mount", "--bind", _ws["images"], _ws["mounted-folder"]);
        (int ExitCode, string Stdout, string Stderr) inFolder;
        try
        {
            inFolder = await CliProcess.RunAsync(_ws, "backup", Path.Combine(_ws["mounted-folder"], "vdb.qcow2"), "--target", _ws["third"], "--format", "qcow2");
        }
        finally
        {
            await RunProgramAsync("umount", _ws["mounted-folder"]);
        }

        Assert.True(inFolder.ExitCode == 0, inFolder.Stderr);
    }

    [Fact]
    public async Task Backup_of_a_detected_qcow2_with_a_backing_file_is_refused_and_writes_nothing_into_the_disk()
    {
        // A guest's raw disk dressed as a qcow2 overlay on a host file: detected, it would be read as that chain.
        var disk = _ws["guest.img"];
        var secret = await ImageFaults.RawDiskDressedAsQcow2Async(disk, host => ["-b", host, "-F", "raw"]);
        var before = Sha256(disk);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", disk, "--target", Folder);

        Assert.Equal(3, code);
        Assert.Contains($"looks like a qcow2 with backing file '{secret}', but its format was detected, not stated", stderr, StringComparison.Ordinal);
        Assert.Equal(before, Sha256(disk));
        Assert.Empty(await BitmapNamesAsync(disk));
    }

    [Fact]
    public async Task A_seed_that_keeps_its_data_in_an_external_file_is_refused_before_anything_reads_it()
    {
        var disk = await DiskAsync("sd.qcow2");
        await AddBitmapAsync(disk, "ck1");
        var seed = _ws["seed.qcow2"];
        await ImgAsync("create", "-q", "-f", "qcow2", "-o", $"data_file={_ws["seed-data.raw"]}", seed, "64M");

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", disk, "--format", "qcow2", "--target", Folder, "--seed", $"sd={seed}", "--since-checkpoint", "ck1");

        Assert.Equal(3, code);
        Assert.Contains($"seed {seed} keeps its data in an external data file; a seed must be a full, standalone qcow2", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Folder, "sd.0.full.qcow2")));
    }

    [Fact]
    public async Task A_dry_run_refuses_the_output_the_real_run_would_refuse()
    {
        var image = await DiskAsync();
        File.CreateSymbolicLink(_ws["link.qcow2"], "/dev/null");
        File.WriteAllText(_ws["exists.qcow2"], "old");

        var link = await CliProcess.RunAsync(_ws, "export", image, _ws["link.qcow2"], "--format", "qcow2", "--dry-run", "--force");
        var exists = await CliProcess.RunAsync(_ws, "export", image, _ws["exists.qcow2"], "--format", "qcow2", "--dry-run");
        var newFolder = await CliProcess.RunAsync(_ws, "export", image, Path.Combine(_ws["not-yet"], "out.qcow2"), "--format", "qcow2", "--dry-run");

        Assert.Equal(6, link.ExitCode);
        Assert.Contains("is a symbolic link, not a regular file", link.Stderr, StringComparison.Ordinal);
        Assert.Equal(6, exists.ExitCode);
        Assert.Contains("already exists; use --force", exists.Stderr, StringComparison.Ordinal);
        Assert.True(newFolder.ExitCode == 0, newFolder.Stderr);
    }

    [Fact]
    public async Task Restore_force_onto_an_image_a_process_holds_is_refused_with_exit_5()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        var held = _ws["held.qcow2"];
        await CreateQcow2Async(held, "16M");
        var heldSum = Sha256(held);
        // qemu-io keeps the image open for writing (and locked) while it waits on its stdin.
        using var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("qemu-io", ["-f", "qcow2", held]) { RedirectStandardInput = true, UseShellExecute = false })!;
        try
        {
            await Task.Delay(500);
            var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", Folder, held, "--force");

            Assert.Equal(5, code);
            Assert.Contains($"image {held} is in use by another process", stderr, StringComparison.Ordinal);
        }
        finally
        {
            holder.StandardInput.WriteLine("quit");
            await holder.WaitForExitAsync();
        }

        Assert.Equal(heldSum, Sha256(held));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Backup_never_replaces_a_file_in_the_way_of_its_next_point()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        var next = Path.Combine(Folder, "vda.1.inc.qcow2");
        await File.WriteAllTextAsync(next, "an operator's file");
        var manifest = File.ReadAllText(Path.Combine(Folder, ManifestStore.FileName));

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--format", "qcow2");

        Assert.Equal(9, code);
        Assert.Contains($"{next} is in the way of the next point, and the manifest does not record it", stderr, StringComparison.Ordinal);
        Assert.Equal("an operator's file", File.ReadAllText(next));
        Assert.Equal(manifest, File.ReadAllText(Path.Combine(Folder, ManifestStore.FileName)));
        Assert.Single(ManifestStore.Load(Folder).Disks.Single().Points);
        _ws.AssertNothingLeftBehind();
    }

    [Theory]
    [InlineData("../outside.qcow2", "is not a plain file name inside the folder")]
    [InlineData("/etc/passwd", "is not a plain file name inside the folder")]
    [InlineData(null, "lacks a field")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "names a file of 256 bytes, longer than any file name can be (255)")]
    public async Task Manifest_naming_a_file_outside_the_folder_or_with_null_fields_is_refused_with_exit_9(string? file, string expected)
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        var path = Path.Combine(Folder, ManifestStore.FileName);
        var text = File.ReadAllText(path);
        var recorded = ManifestStore.Load(Folder).Disks.Single().Points[0].File;
        await File.WriteAllTextAsync(path, text.Replace($"\"{recorded}\"", file is null ? "null" : $"\"{file}\""));

        var restore = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["r.qcow2"]);
        var list = await CliProcess.RunAsync(_ws, "list", Folder);

        Assert.Equal(9, restore.ExitCode);
        Assert.Contains(expected, restore.Stderr, StringComparison.Ordinal);
        Assert.Single(restore.Stderr.TrimEnd().Split('\n'));
        Assert.Equal(9, list.ExitCode);
        Assert.False(File.Exists(_ws["r.qcow2"]));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task Point_whose_header_names_a_host_file_is_refused_without_reading_it()
    {
        var image = await DiskAsync();
        await BackupAsync(image);
        await IoAsync(image, "write -P 0x23 0 1M");
        await BackupAsync(image);
        var point = Path.Combine(Folder, ManifestStore.Load(Folder).Disks.Single().Points[1].File);
        // A host file outside the folder, as a hostile header would name it; a FIFO proves it is never opened.
        var outside = _ws["outside.raw"];
        await MakeFifoAsync(outside);
        await ImgAsync("rebase", "-u", "-f", "qcow2", "-b", outside, "-F", "raw", point);

        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["r.qcow2"]);

        Assert.Equal(11, code);
        Assert.Contains($"its header names backing file '{outside}', outside the backup folder; nothing was read from there", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["r.qcow2"]));
        _ws.AssertNothingLeftBehind();
    }
}
