using System.Text.Json;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Backup;

/// <summary>
/// check, list and restore find damaged points without the source disks (issue 13): each point's recorded
/// SHA-256 and size, its link to its backing, qemu-img check; exit 11 names the point and what it takes down.
/// </summary>
public sealed class FolderCheckTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private string Folder => _ws["backups"];

    private string PointFile(int number) => Path.Combine(Folder, ManifestStore.Load(Folder).Disks.Single().Point(number)!.File);

    /// <summary>A disk with three points (full, inc, inc), each with its own data.</summary>
    private async Task<string> ThreePointsAsync()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "32M");
        await IoAsync(image, "write -P 0x11 0 4M");
        await BackupAsync(image);
        await IoAsync(image, "write -P 0x22 8M 1M");
        await BackupAsync(image);
        await IoAsync(image, "write -P 0x33 16M 1M");
        await BackupAsync(image);
        return image;
    }

    private async Task BackupAsync(string image)
    {
        var (code, _, stderr) = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder, "--quiet");
        Assert.True(code == 0, stderr);
    }

    /// <summary>Overwrites the file's last byte (a data cluster's), keeping its size.</summary>
    private static void FlipLastByte(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length - 1;
        var value = file.ReadByte();
        file.Position = file.Length - 1;
        file.WriteByte((byte)(value ^ 0xff));
    }

    [Fact]
    public async Task Every_point_records_the_sha256_and_size_of_its_file_and_a_healthy_folder_checks_clean()
    {
        await ThreePointsAsync();

        var plain = await CliProcess.RunAsync(_ws, "check", Folder);
        var full = await CliProcess.RunAsync(_ws, "check", Folder, "--read-data", "--json");

        var points = ManifestStore.Load(Folder).Disks.Single().Points;
        Assert.Equal(3, points.Count);
        Assert.All(points, p => Assert.Equal(Sha256(Path.Combine(Folder, p.File)).ToLowerInvariant(), p.FileSha256));
        Assert.All(points, p => Assert.Equal(new FileInfo(Path.Combine(Folder, p.File)).Length, p.FileSize));
        Assert.True(plain.ExitCode == 0, plain.Stdout + plain.Stderr);
        Assert.Contains("healthy: 3 point(s) of 1 disk(s) checked", plain.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, full.ExitCode);
        using var json = JsonDocument.Parse(full.Stdout);
        Assert.True(json.RootElement.GetProperty("healthy").GetBoolean());
        Assert.True(json.RootElement.GetProperty("readData").GetBoolean());
        Assert.Equal(points.Sum(p => p.FileSize!.Value), json.RootElement.GetProperty("bytesRead").GetInt64());
    }

    [Fact]
    public async Task A_missing_point_is_found_by_check_and_list_and_takes_down_the_later_point()
    {
        await ThreePointsAsync();
        File.Delete(PointFile(1));

        var check = await CliProcess.RunAsync(_ws, "check", Folder);
        var list = await CliProcess.RunAsync(_ws, "list", Folder);
        var restore2 = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["r2.qcow2"], "--point", "2");
        var restore0 = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["r0.qcow2"], "--point", "0");

        Assert.Equal(11, check.ExitCode);
        Assert.Contains("vda: point 1 (vda.1.inc.qcow2) is damaged: its file is missing; point 2 needs it and cannot be restored either", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 of 3 points damaged, 1 more depend on them", check.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("DAMAGED", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("needs 1", list.Stdout, StringComparison.Ordinal);
        Assert.Equal(11, restore2.ExitCode);
        Assert.Contains("cannot restore point 2 of vda: it needs point 1 (vda.1.inc.qcow2), which is damaged: its file is missing", restore2.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["r2.qcow2"]));
        Assert.True(restore0.ExitCode == 0, restore0.Stderr);
    }

    [Fact]
    public async Task Changed_data_of_the_same_size_is_found_by_read_data_and_refused_by_restore()
    {
        await ThreePointsAsync();
        FlipLastByte(PointFile(1));

        var plain = await CliProcess.RunAsync(_ws, "check", Folder);
        var readData = await CliProcess.RunAsync(_ws, "check", Folder, "--read-data");
        var restore = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["r.qcow2"], "--point", "2");
        var latest = await CliProcess.RunAsync(_ws, "restore", Folder, _ws["r1.qcow2"], "--point", "1", "--json");

        // The file's structure is intact, so only the data read proves the change.
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal(11, readData.ExitCode);
        Assert.Contains("vda: point 1 (vda.1.inc.qcow2) is damaged: its SHA-256 is", readData.Stdout, StringComparison.Ordinal);
        Assert.Contains("its content changed; point 2 needs it", readData.Stdout, StringComparison.Ordinal);
        Assert.Equal(11, restore.ExitCode);
        Assert.Contains("it needs point 1 (vda.1.inc.qcow2), which is damaged: its SHA-256 is", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(11, latest.ExitCode);
        Assert.Contains("\"type\": \"damaged\"", latest.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(_ws["r.qcow2"]));
        Assert.False(File.Exists(_ws["r1.qcow2"]));
        _ws.AssertNothingLeftBehind();
    }

    [Fact]
    public async Task A_truncated_point_and_a_corrupt_table_are_found_without_read_data()
    {
        await ThreePointsAsync();
        ImageFaults.Truncate(PointFile(2), new FileInfo(PointFile(2)).Length - 65536);
        ImageFaults.PointFirstL2EntryPastTheEnd(PointFile(0));

        var check = await CliProcess.RunAsync(_ws, "check", Folder, "--json");

        Assert.Equal(11, check.ExitCode);
        using var json = JsonDocument.Parse(check.Stdout);
        var damaged = json.RootElement.GetProperty("damaged").EnumerateArray().ToList();
        Assert.Equal([0, 2], damaged.Select(d => d.GetProperty("point").GetInt32()));
        Assert.Contains("qemu-img check found", damaged[0].GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Equal([1, 2], damaged[0].GetProperty("takesDown").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Contains("bytes when it was written (truncated, extended or replaced)", damaged[1].GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_point_marked_corrupt_or_encrypted_in_its_header_is_found_without_read_data()
    {
        await ThreePointsAsync();
        SetHeaderByte(PointFile(1), 79, 0x02); // incompatible features: corrupt
        SetHeaderByte(PointFile(2), 35, 0x01); // crypt method: AES

        var check = await CliProcess.RunAsync(_ws, "check", Folder, "--json");

        Assert.Equal(11, check.ExitCode);
        using var json = JsonDocument.Parse(check.Stdout);
        var damaged = json.RootElement.GetProperty("damaged").EnumerateArray().ToList();
        Assert.Equal([1, 2], damaged.Select(d => d.GetProperty("point").GetInt32()));
        Assert.Equal("qemu marked it corrupt: its metadata is inconsistent (see 'qemu-img check')", damaged[0].GetProperty("problem").GetString());
        Assert.Equal("it is encrypted, which this tool never writes", damaged[1].GetProperty("problem").GetString());
    }

    [Fact]
    public async Task Check_reads_the_file_it_examined_whatever_its_name_leads_to_afterwards()
    {
        await ThreePointsAsync();
        var disk = ManifestStore.Load(Folder).Disks.Single();
        var path = PointFile(1);
        var qemuImg = new QemuImg("qemu-img");
        var (handle, what) = PointFiles.OpenExamined(Folder, disk, disk.Point(1)!);
        Assert.Null(what);

        using (handle)
        {
            // Swapped after the examination for something that is no qcow2, then for a named pipe no one writes.
            File.Move(path, path + ".moved");
            await File.WriteAllBytesAsync(path, new byte[65536]);
            var byName = await qemuImg.CheckQcow2Async(path, CancellationToken.None);
            var held = await qemuImg.CheckQcow2Async(handle!, path, CancellationToken.None);
            File.Delete(path);
            await MakeFifoAsync(path);
            var heldPastPipe = await qemuImg.CheckQcow2Async(handle!, path, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.False(byName.IsReadable);
            Assert.True(held.IsReadable, held.FirstError);
            Assert.True(heldPastPipe.IsReadable, heldPastPipe.FirstError);
        }

        // What qemu-img says of a held file names the file, not the descriptor it was read through.
        File.Delete(path);
        await File.WriteAllBytesAsync(path, new byte[65536]);
        using var notQcow2 = File.OpenHandle(path);
        var refused = await qemuImg.CheckQcow2Async(notQcow2, path, CancellationToken.None);
        Assert.False(refused.IsReadable);
        Assert.Contains(path, refused.FirstError, StringComparison.Ordinal);
        Assert.DoesNotContain("/proc/", refused.FirstError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nul_byte_in_a_backing_name_is_damage_not_a_crash()
    {
        // qemu reads the name only up to the NUL; this tool must not read it another way, nor fail on it.
        await ThreePointsAsync();
        var point = PointFile(1);
        var nameOffset = ReadBigEndian(point, 8);
        using (var file = new FileStream(point, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = nameOffset + 3;
            file.WriteByte(0);
        }

        var check = await CliProcess.RunAsync(_ws, "check", Folder, "--json");
        var forget = await CliProcess.RunAsync(_ws, "forget", Folder, "--keep-last", "1");

        Assert.Equal(11, check.ExitCode);
        using var json = JsonDocument.Parse(check.Stdout);
        var damaged = json.RootElement.GetProperty("damaged").EnumerateArray().Single();
        Assert.Equal(1, damaged.GetProperty("point").GetInt32());
        Assert.Equal("its header has a damaged backing-file field (a NUL byte in the name)", damaged.GetProperty("problem").GetString());
        Assert.Equal(11, forget.ExitCode);
        Assert.Contains("a NUL byte in the name", forget.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_refuses_a_point_someone_else_could_rewrite_in_place_as_restore_does()
    {
        await ThreePointsAsync();
        var point = PointFile(2);
        await RunProgramAsync("chown", "65534", point);

        var check = await CliProcess.RunAsync(_ws, "check", Folder);

        Assert.Equal(9, check.ExitCode);
        Assert.Contains($"cannot check point 2 of vda: {point} could be changed while it is read: it belongs to user id 65534", check.Stderr, StringComparison.Ordinal);
        await RunProgramAsync("chown", "0", point);
        Assert.Equal(0, (await CliProcess.RunAsync(_ws, "check", Folder)).ExitCode);
    }

    private static long ReadBigEndian(string path, int offset)
    {
        using var file = File.OpenRead(path);
        var bytes = new byte[8];
        file.Position = offset;
        file.ReadExactly(bytes);
        return (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    private static void SetHeaderByte(string path, int offset, byte bits)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value | bits));
    }

    [Fact]
    public async Task A_point_linked_to_another_point_than_the_manifest_says_is_damaged_and_backup_starts_a_new_full()
    {
        var image = await ThreePointsAsync();
        // Point 2 rebased (unsafe) onto point 0: every file is there, but point 2 no longer holds what it held.
        await ImgAsync("rebase", "-u", "-f", "qcow2", "-b", Path.GetFileName(PointFile(0)), "-F", "qcow2", PointFile(2));
        await IoAsync(image, "write -P 0x44 20M 64K");

        var check = await CliProcess.RunAsync(_ws, "check", Folder);
        var backup = await CliProcess.RunAsync(_ws, "backup", image, "--target", Folder);

        Assert.Equal(11, check.ExitCode);
        Assert.Contains("its header names backing file 'vda.0.full.qcow2', but the manifest says it is backed by point 1 (vda.1.inc.qcow2)", check.Stdout, StringComparison.Ordinal);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Assert.Contains("warning: vda: new full point: the latest point (vda.2.inc.qcow2) cannot be built on: its header names backing file", backup.Stderr, StringComparison.Ordinal);
        Assert.Equal(PointLevel.Full, ManifestStore.Load(Folder).Disks.Single().Latest!.Level);
    }

    [Fact]
    public async Task A_hundred_point_chain_checks_healthy_and_its_broken_link_takes_down_every_later_point()
    {
        // Built directly (qemu-img create per point and a manifest), as a hundred nightly runs would leave it.
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x11 0 1M");
        await BackupAsync(image);
        var disk = ManifestStore.Load(Folder).Disks.Single();
        var points = disk.Points.ToList();
        for (var n = 1; n < 100; n++)
        {
            var file = $"vda.{n}.inc.qcow2";
            await ImgAsync("create", "-q", "-f", "qcow2", "-b", points[^1].File, "-F", "qcow2", Path.Combine(Folder, file));
            var path = Path.Combine(Folder, file);
            points.Add(points[0] with { Number = n, File = file, Level = PointLevel.Inc, BackingPoint = n - 1, FileSha256 = Sha256(path).ToLowerInvariant(), FileSize = new FileInfo(path).Length });
        }

        ManifestStore.Save(Folder, ManifestStore.Load(Folder).WithDisk(disk with { Points = points }));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var healthy = await CliProcess.RunAsync(_ws, "check", Folder);
        var took = clock.Elapsed;
        File.Delete(Path.Combine(Folder, "vda.50.inc.qcow2"));
        var broken = await CliProcess.RunAsync(_ws, "check", Folder, "--json");

        Assert.True(healthy.ExitCode == 0, healthy.Stdout + healthy.Stderr);
        Assert.Contains("healthy: 100 point(s)", healthy.Stdout, StringComparison.Ordinal);
        Assert.Equal(11, broken.ExitCode);
        using var json = JsonDocument.Parse(broken.Stdout);
        var damage = Assert.Single(json.RootElement.GetProperty("damaged").EnumerateArray());
        Assert.Equal(Enumerable.Range(51, 49), damage.GetProperty("takesDown").EnumerateArray().Select(e => e.GetInt32()));
        Console.WriteLine($"check of 100 points took {took.TotalSeconds:F2} s");
    }
}
