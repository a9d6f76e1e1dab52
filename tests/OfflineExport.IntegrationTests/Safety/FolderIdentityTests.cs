using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.Qemu;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Safety;

/// <summary>
/// Checkpoints are their folder's (issue #10, "Trust"): every folder tags its checkpoint names with its
/// own random id, and a copied folder (<c>cp -a</c>) gets a new id and leaves the original's checkpoints alone.
/// </summary>
public sealed class FolderIdentityTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private async Task<BackupResult> BackupAsync(string image, string folder, BackupLevel level = BackupLevel.Auto, int? keep = null)
    {
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        return await new BackupRunner(_ws.Options).RunAsync(new BackupRequest { Images = [image], Target = folder, Level = level, Verify = true, KeepCheckpoints = keep }, null, cts.Token);
    }

    private static async Task<IReadOnlyList<string>> BitmapsAsync(string image) =>
        (await new QemuImg("qemu-img").GetBackingChainAsync(image, "qcow2", CancellationToken.None))[0].Bitmaps.Select(b => b.Name).ToList();

    [Fact]
    public async Task Two_folders_backing_up_at_the_same_moment_make_different_checkpoint_names()
    {
        // Arrange
        var vda = _ws["vda.qcow2"];
        var vdb = _ws["vdb.qcow2"];
        await CreateQcow2Async(vda, "16M");
        await CreateQcow2Async(vdb, "16M");
        await IoAsync(vda, "write -P 0x10 0 1M");
        await IoAsync(vdb, "write -P 0x20 0 1M");

        // Act
        var runs = await Task.WhenAll(BackupAsync(vda, _ws["bk-a"]), BackupAsync(vdb, _ws["bk-b"]));
        _ws.AssertNothingLeftBehind();

        // Assert
        var names = runs.Select(r => r.Disks[0].Point!.CheckpointCreated!).ToList();
        var tags = new[] { "bk-a", "bk-b" }.Select(f => ManifestStore.LoadExisting(_ws[f]).Folder!.Tag).ToList();
        Assert.NotEqual(names[0], names[1]);
        Assert.NotEqual(tags[0], tags[1]);
        Assert.Equal(tags, names.Select(CheckpointNames.TagOf));
        Assert.Equal(names[0], Assert.Single(await BitmapsAsync(vda)));
        Assert.Equal(names[1], Assert.Single(await BitmapsAsync(vdb)));
    }

    [Fact]
    public async Task Copied_folder_leaves_the_original_checkpoints_alone_and_the_original_goes_on()
    {
        // Arrange: two points in the original folder, then cp -a of it.
        var vda = _ws["vda.qcow2"];
        var original = _ws["bk"];
        var copy = _ws["bk-copy"];
        await CreateQcow2Async(vda, "32M");
        await IoAsync(vda, "write -P 0x10 0 4M");
        var first = await BackupAsync(vda, original);
        await IoAsync(vda, "write -P 0x11 1M 64K");
        var second = await BackupAsync(vda, original);
        Assert.Equal(PointLevel.Inc, second.Disks[0].Point!.Level);
        var originalCheckpoints = new[] { first, second }.Select(r => r.Disks[0].Point!.CheckpointCreated!).ToList();
        await RunProgramAsync("cp", "-a", original, copy);
        await IoAsync(vda, "write -P 0x12 2M 64K");

        // Act: the copy backs up with --keep-checkpoints 1 three times (its third, a new chain, prunes its own older checkpoints).
        var copyFirst = await BackupAsync(vda, copy, keep: 1);
        await IoAsync(vda, "write -P 0x13 3M 64K");
        var copySecond = await BackupAsync(vda, copy, keep: 1);
        var copyThird = await BackupAsync(vda, copy, BackupLevel.Full, keep: 1);
        await IoAsync(vda, "write -P 0x14 5M 64K");
        var originalThird = await BackupAsync(vda, original);
        _ws.AssertNothingLeftBehind();

        // Assert
        Assert.Equal(PointLevel.Full, copyFirst.Disks[0].Point!.Level);
        Assert.Contains("a copied folder builds only on checkpoints it started itself", copyFirst.Disks[0].Plan.Reason, StringComparison.Ordinal);
        Assert.Contains(copyFirst.Notes, n => n.Contains("is a copy of another", StringComparison.Ordinal));
        Assert.Equal(PointLevel.Inc, copySecond.Disks[0].Point!.Level);
        Assert.Empty(copySecond.RemovedCheckpoints); // the current chain's first checkpoint is kept
        Assert.Equal(new[] { copyFirst, copySecond }.Select(r => $"vda: {r.Disks[0].Point!.CheckpointCreated}"), copyThird.RemovedCheckpoints);
        var present = await BitmapsAsync(vda);
        Assert.All(originalCheckpoints, c => Assert.Contains(c, present));
        var copyFolder = ManifestStore.LoadExisting(copy).Folder!;
        var originalFolder = ManifestStore.LoadExisting(original).Folder!;
        Assert.NotEqual(originalFolder.Id, copyFolder.Id);
        Assert.Equal([originalFolder.Id], copyFolder.CopiedFrom);
        Assert.Equal(copyFolder.Tag, CheckpointNames.TagOf(copySecond.Disks[0].Point!.CheckpointCreated!));

        var point = originalThird.Disks[0].Point!;
        Assert.Equal(PointLevel.Inc, point.Level);
        Assert.Equal([originalCheckpoints[1]], point.CheckpointsUsed);
        var restored = _ws["restored.qcow2"];
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        await new RestoreSession(_ws.Options).RunAsync(new RestoreRequest { Folder = original, Output = restored }, cts.Token);
        Assert.Equal(0, await CompareAsync(restored, vda));
    }

    [Fact]
    public async Task Manifest_from_before_the_identities_keeps_working_and_gets_them_at_the_next_run()
    {
        // Arrange: a folder as an older version left it: no folder record, no disk identities, an untagged checkpoint name.
        var vda = _ws["vda.qcow2"];
        var folder = _ws["bk"];
        const string legacy = "offline-export-20261101T010000Z";
        await CreateQcow2Async(vda, "16M");
        await IoAsync(vda, "write -P 0x10 0 1M");
        var tagged = (await BackupAsync(vda, folder)).Disks[0].Point!.CheckpointCreated!;
        await AddBitmapAsync(vda, legacy);
        await ImgAsync("bitmap", "--merge", tagged, vda, legacy);
        await ImgAsync("bitmap", "--remove", vda, tagged);
        var path = Path.Combine(folder, ManifestStore.FileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        json.Remove("folder");
        foreach (var disk in json["disks"]!.AsArray())
        {
            disk!["currentCheckpoint"] = legacy;
            foreach (var point in disk["points"]!.AsArray())
            {
                point!.AsObject().Remove("disk");
                point["checkpointCreated"] = legacy;
            }
        }

        await File.WriteAllTextAsync(path, json.ToJsonString());
        await IoAsync(vda, "write -P 0x11 2M 64K");

        // Act
        var second = await BackupAsync(vda, folder);
        _ws.AssertNothingLeftBehind();

        // Assert
        Assert.Equal(PointLevel.Inc, second.Disks[0].Point!.Level);
        Assert.Equal([legacy], second.Disks[0].Point!.CheckpointsUsed);
        var manifest = ManifestStore.LoadExisting(folder);
        Assert.NotNull(manifest.Folder);
        Assert.Empty(manifest.Folder!.CopiedFrom);
        Assert.Null(manifest.Disks[0].Points[0].Disk);
        Assert.NotNull(manifest.Disks[0].Points[1].Disk);
        Assert.Equal(manifest.Folder.Tag, CheckpointNames.TagOf(second.Disks[0].Point!.CheckpointCreated!));
        var restored = _ws["restored.qcow2"];
        using var cts = new CancellationTokenSource(ExportHarness.Deadline);
        await new RestoreSession(_ws.Options).RunAsync(new RestoreRequest { Folder = folder, Output = restored }, cts.Token);
        Assert.Equal(0, await CompareAsync(restored, vda));
    }
}
