using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Retention;

/// <summary>
/// A disk backed up night after night into a folder, with what the guest saw at each point, for the retention
/// tests. The points' times are set afterwards (the manifest is the only place forget reads them from), one
/// night apart from Sunday 2026-11-01 01:30 UTC.
/// </summary>
public sealed class RetentionFolder
{
    /// <summary>The first night.</summary>
    public static readonly DateTimeOffset FirstNight = new(2026, 11, 1, 1, 30, 0, TimeSpan.Zero);

    private readonly TestWorkspace _ws;

    private RetentionFolder(TestWorkspace ws, string image, IReadOnlyList<string> guest)
    {
        _ws = ws;
        Image = image;
        Guest = guest;
    }

    /// <summary>The disk.</summary>
    public string Image { get; }

    /// <summary>The backup folder.</summary>
    public string Folder => _ws["backups"];

    /// <summary>What the guest read at point n (SHA-256 of the disk's content).</summary>
    public IReadOnlyList<string> Guest { get; }

    /// <summary>
    /// <paramref name="nights"/> backups of a 64 MiB disk, each after <paramref name="megabytes"/> MiB of new
    /// writes; the nights in <paramref name="fullAt"/> make full points.
    /// </summary>
    public static async Task<RetentionFolder> CreateAsync(TestWorkspace ws, int nights, int[]? fullAt = null, int megabytes = 1)
    {
        var image = ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        var guest = new List<string>();
        for (var night = 0; night < nights; night++)
        {
            // Overlapping writes: later nights overwrite parts of earlier ones, so a merge must pick the newest data.
            var offset = (night * 3 % 56) << 20;
            await IoAsync(image, $"write -P {(night % 250) + 1} {offset} {megabytes}M", $"write -z {((night * 7) % 60) << 20} 64K");
            using var cts = new CancellationTokenSource(ExportHarness.Deadline);
            var level = fullAt?.Contains(night) == true ? BackupLevel.Full : BackupLevel.Auto;
            await new BackupRunner(ws.Options).RunAsync(new BackupRequest { Images = [image], Target = ws["backups"], Level = level }, null, cts.Token);
            guest.Add(await GuestSha256Async(image));
        }

        var folder = new RetentionFolder(ws, image, guest);
        folder.SetNights();
        return folder;
    }

    /// <summary>Point n's time becomes night n, 01:30 UTC.</summary>
    public void SetNights() => SetTimes(number => FirstNight.AddDays(number));

    /// <summary>Point n's time becomes <paramref name="time"/>(n).</summary>
    public void SetTimes(Func<int, DateTimeOffset> time)
    {
        var manifest = ManifestStore.Load(Folder);
        var disk = manifest.Disks.Single();
        ManifestStore.Save(Folder, manifest.WithDisk(disk with
        {
            Points = disk.Points.Select(p => p with { StartTime = time(p.Number), EndTime = time(p.Number).AddMinutes(1) }).ToList(),
        }));
    }

    /// <summary>
    /// Eight points on three days (0-2, 3-5, 6-7), so <c>--keep-daily 3</c> keeps 2, 5 and 7 and makes three
    /// merges: 2 takes in 0-1 (a new full), 5 takes in 3-4 (on 2), 7 takes in 6 (on 5).
    /// </summary>
    public static async Task<RetentionFolder> ThreeDaysAsync(TestWorkspace ws, int megabytes)
    {
        var folder = await CreateAsync(ws, 8, megabytes: megabytes);
        folder.SetTimes(number => FirstNight.AddDays(number / 3).AddHours(number % 3));
        return folder;
    }

    /// <summary>The points <see cref="ThreeDaysAsync"/>'s folder keeps with <c>--keep-daily 3</c>.</summary>
    public static readonly int[] KeptOfThreeDays = [2, 5, 7];

    /// <summary>The disk's record now.</summary>
    public DiskRecord Disk => ManifestStore.Load(Folder).Disks.Single();

    /// <summary>Asserts every point the manifest lists reads as the guest read at its time (through its whole chain).</summary>
    public async Task AssertEveryPointReadsAsItsNightAsync()
    {
        foreach (var point in Disk.Points)
        {
            Assert.True(Guest[point.Number] == await GuestSha256Async(Path.Combine(Folder, point.File)), $"point {point.Number} ({point.File}) does not read as the disk did at its time");
        }
    }

    /// <summary>Files of the folder other than the manifest, the locks and the kept points' files.</summary>
    public IReadOnlyList<string> StrayFiles()
    {
        var expected = Disk.Points.Select(p => p.File).Append(ManifestStore.FileName).Append(".offline-export.lock").Append(".offline-export.points.lock").ToHashSet();
        return Directory.EnumerateFileSystemEntries(Folder).Select(Path.GetFileName).OfType<string>().Where(n => !expected.Contains(n)).Order().ToList();
    }
}
