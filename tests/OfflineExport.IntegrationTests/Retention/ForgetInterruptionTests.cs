using System.Diagnostics;
using System.Globalization;
using OfflineExport.Backup;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.IO;
using OfflineExport.Processes;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Retention;

/// <summary>
/// A forget killed (SIGKILL), interrupted (SIGINT) or stopped at any step leaves every point restorable, and
/// the next command finishes or undoes it (issue 13): real kills at the run's stages, and every state a kill
/// can leave a journal in, built step by step.
/// </summary>
public sealed class ForgetInterruptionTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static string Journal(RetentionFolder folder) => Path.Combine(folder.Folder, ForgetJournal.FileName);

    private static bool JournalSays(RetentionFolder folder, string stage)
    {
        try
        {
            return File.ReadAllText(Journal(folder)).Contains(stage, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Every point restores as the guest saw it, or (forgotten by a committed run) is no longer there; every kept one restores.</summary>
    private async Task AssertRestorableAsync(RetentionFolder folder)
    {
        for (var number = 0; number < 8; number++)
        {
            var output = _ws[$"restored{number}.qcow2"];
            var (code, _, stderr) = await CliProcess.RunAsync(_ws, "restore", folder.Folder, output, "--point", number.ToString(CultureInfo.InvariantCulture), "--force");
            if (RetentionFolder.KeptOfThreeDays.Contains(number) || code == 0)
            {
                Assert.True(code == 0, $"point {number}: {stderr}");
                Assert.Equal(folder.Guest[number], await GuestSha256Async(output));
            }
            else
            {
                Assert.Equal(2, code);
                Assert.Contains($"has no point {number}", stderr, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>What every finished forget leaves: the kept points, exact, checked, nothing else in the folder.</summary>
    private async Task AssertForgottenAsync(RetentionFolder folder)
    {
        Assert.Equal(RetentionFolder.KeptOfThreeDays, folder.Disk.Points.Select(p => p.Number));
        await folder.AssertEveryPointReadsAsItsNightAsync();
        Assert.Empty(folder.StrayFiles());
        var check = await CliProcess.RunAsync(_ws, "check", folder.Folder, "--read-data");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        _ws.AssertNothingLeftBehind();
    }

    public static TheoryData<string, int> Stages => new()
    {
        { "journal", Signals.SIGKILL },
        { "merging", Signals.SIGKILL },
        { "merging", Signals.SIGINT },
        { "committing", Signals.SIGKILL },
        { "manifest", Signals.SIGKILL },
    };

    [Theory]
    [MemberData(nameof(Stages))]
    public async Task A_forget_signalled_at_a_stage_leaves_every_point_restorable_and_the_next_forget_finishes(string stage, int signal)
    {
        var folder = await RetentionFolder.ThreeDaysAsync(_ws, megabytes: 8);
        Func<bool> reached = stage switch
        {
            "journal" => () => File.Exists(Journal(folder)),
            "merging" => () => Directory.EnumerateFiles(folder.Folder, "*.forget").Any(f => new FileInfo(f).Length > 0),
            "committing" => () => JournalSays(folder, nameof(ForgetStage.Committing)),
            _ => () => ManifestStore.Load(folder.Folder).Disks.Single().Point(0) is null,
        };

        await using (var forget = CliProcess.Start(_ws, ["forget", folder.Folder, "--keep-daily", "3"]))
        {
            var clock = Stopwatch.StartNew();
            while (!reached() && !forget.HasExited)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "the stage was never reached");
                Thread.Sleep(1);
            }

            // The stage must be caught with the run still going, or this case would test nothing.
            Assert.False(forget.HasExited, $"forget ended before the {stage} stage could be signalled");
            Signals.Send(forget.Id, signal);

            var code = await forget.WaitAsync(TimeSpan.FromSeconds(60));
            // Ctrl-C before the commit undoes the run; after it, the run finishes (exit 0).
            Assert.Contains(code, signal == Signals.SIGINT ? new[] { 130, 0 } : new[] { 137, -1, 0 });
        }

        // What the signal left, for the log: the journal's stage and the merged copies on disk.
        var left = File.Exists(Journal(folder)) ? (JournalSays(folder, nameof(ForgetStage.Committing)) ? "committing" : "building") : "no journal";
        Console.WriteLine($"{stage}/{signal}: left {left}, {Directory.EnumerateFiles(folder.Folder, "*.forget").Count()} merged copies, {folder.Disk.Points.Count} points recorded");
        if (signal == Signals.SIGINT)
        {
            Assert.False(File.Exists(Journal(folder)));
            Assert.Empty(Directory.EnumerateFiles(folder.Folder, "*.forget"));
        }

        await AssertRestorableAsync(folder);
        var again = await CliProcess.RunAsync(_ws, "forget", folder.Folder, "--keep-daily", "3");
        Assert.True(again.ExitCode == 0, again.Stderr);
        await AssertForgottenAsync(folder);
    }

    [Fact]
    public async Task A_journal_naming_files_that_are_not_its_points_is_refused_and_nothing_is_removed()
    {
        var folder = await RetentionFolder.ThreeDaysAsync(_ws, megabytes: 1);
        var kept = folder.Disk.Point(4)!.File;
        new ForgetJournal
        {
            Owner = ProcessIdentity.Current,
            StartTime = DateTimeOffset.UtcNow,
            Stage = ForgetStage.Committing,
            Temporaries = [kept],
            Forgotten = [new ForgottenPoint("vda", 99, ManifestStore.FileName)],
        }.Save(folder.Folder);

        var forget = await CliProcess.RunAsync(_ws, "forget", folder.Folder, "--keep-daily", "3");
        var check = await CliProcess.RunAsync(_ws, "check", folder.Folder);

        Assert.Equal(9, forget.ExitCode);
        Assert.Contains("does not fit the folder's manifest", forget.Stderr, StringComparison.Ordinal);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.True(File.Exists(Path.Combine(folder.Folder, kept)));
        Assert.Equal(8, folder.Disk.Points.Count);
    }

    [Fact]
    public async Task A_journal_whose_merged_copy_was_removed_keeps_that_disks_old_points()
    {
        var folder = await RetentionFolder.ThreeDaysAsync(_ws, megabytes: 1);
        var disk = folder.Disk;
        var file = disk.Point(2)!.File;
        new ForgetJournal
        {
            Owner = ProcessIdentity.Current,
            StartTime = DateTimeOffset.UtcNow,
            Stage = ForgetStage.Committing,
            Temporaries = [$"{file}.00000002.forget"],
            Swaps = [new ForgetSwap { Disk = "vda", Point = 2, File = file, Temporary = $"{file}.00000002.forget", FileSha256 = new string('0', 64), FileSize = 1, Level = PointLevel.Full }],
            Forgotten = [new ForgottenPoint("vda", 0, disk.Point(0)!.File), new ForgottenPoint("vda", 1, disk.Point(1)!.File)],
        }.Save(folder.Folder); // its temporary is gone, as an operator's rm *.forget leaves it

        var check = await CliProcess.RunAsync(_ws, "check", folder.Folder, "--read-data");

        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.False(File.Exists(Journal(folder)));
        Assert.Equal(Enumerable.Range(0, 8), folder.Disk.Points.Select(p => p.Number));
        await folder.AssertEveryPointReadsAsItsNightAsync();
    }

    /// <summary>How far the hand-built run goes before the "kill".</summary>
    public enum Reached
    {
        /// <summary>Merged copies being written (one of them half), the journal building.</summary>
        Building,

        /// <summary>The journal committed, nothing put in place.</summary>
        Committed,

        /// <summary>The first merged file renamed over its point.</summary>
        OneRenamed,

        /// <summary>Every file renamed and the manifest saved; forgotten files still there.</summary>
        ManifestSaved,

        /// <summary>Everything done but the journal's removal.</summary>
        FilesRemoved,
    }

    [Theory]
    [InlineData(Reached.Building)]
    [InlineData(Reached.Committed)]
    [InlineData(Reached.OneRenamed)]
    [InlineData(Reached.ManifestSaved)]
    [InlineData(Reached.FilesRemoved)]
    public async Task Every_state_a_killed_forget_can_leave_is_restorable_and_the_next_command_settles_it(Reached reached)
    {
        var folder = await RetentionFolder.ThreeDaysAsync(_ws, megabytes: 2);
        var disk = folder.Disk;
        string PointPath(int n) => Path.Combine(folder.Folder, disk.Point(n)!.File);

        // The merges forget --keep-daily 3 makes, done as it does them: 2 becomes full, 5 goes onto 2, 7 onto 5.
        var swaps = new List<ForgetSwap>();
        foreach (var (point, backing) in new (int, int?)[] { (2, null), (5, 2), (7, 5) })
        {
            var temporary = $"{disk.Point(point)!.File}.0000000{point}.forget";
            var path = Path.Combine(folder.Folder, temporary);
            if (backing is null)
            {
                await ImgAsync("convert", "-f", "qcow2", "-O", "qcow2", PointPath(point), path);
            }
            else
            {
                File.Copy(PointPath(point), path);
                await ImgAsync("rebase", "-f", "qcow2", "-b", disk.Point(backing.Value)!.File, "-F", "qcow2", path);
            }

            Assert.Equal(0, await CompareAsync(path, PointPath(point)));
            var digest = await FileChecksum.ComputeAsync(path, CancellationToken.None);
            swaps.Add(new ForgetSwap
            {
                Disk = "vda",
                Point = point,
                File = disk.Point(point)!.File,
                Temporary = temporary,
                FileSha256 = digest.Sha256,
                FileSize = digest.Size,
                BackingPoint = backing,
                Level = backing is null ? PointLevel.Full : PointLevel.Inc,
            });
        }

        var journal = new ForgetJournal
        {
            Owner = ProcessIdentity.Current,
            StartTime = DateTimeOffset.UtcNow,
            Stage = reached == Reached.Building ? ForgetStage.Building : ForgetStage.Committing,
            Temporaries = swaps.Select(s => s.Temporary).ToList(),
            Swaps = reached == Reached.Building ? [] : swaps,
            Forgotten = reached == Reached.Building ? [] : new[] { 0, 1, 3, 4, 6 }.Select(n => new ForgottenPoint("vda", n, disk.Point(n)!.File)).ToList(),
        };
        journal.Save(folder.Folder);
        switch (reached)
        {
            case Reached.Building:
                ImageFaults.Truncate(Path.Combine(folder.Folder, swaps[^1].Temporary), 4096); // the copy under way
                break;
            case Reached.OneRenamed:
                File.Move(Path.Combine(folder.Folder, swaps[0].Temporary), PointPath(2), overwrite: true);
                break;
            case Reached.ManifestSaved or Reached.FilesRemoved:
                foreach (var swap in swaps)
                {
                    File.Move(Path.Combine(folder.Folder, swap.Temporary), Path.Combine(folder.Folder, swap.File), overwrite: true);
                }

                ManifestStore.Save(folder.Folder, journal.Apply(ManifestStore.Load(folder.Folder), _ => true));
                if (reached == Reached.FilesRemoved)
                {
                    foreach (var forgotten in journal.Forgotten)
                    {
                        File.Delete(Path.Combine(folder.Folder, forgotten.File));
                    }
                }

                break;
        }

        // The first command after the "kill" is a restore: it settles the folder before it reads.
        await AssertRestorableAsync(folder);

        Assert.False(File.Exists(Journal(folder)));
        if (reached == Reached.Building)
        {
            Assert.Equal(Enumerable.Range(0, 8), folder.Disk.Points.Select(p => p.Number));
            await folder.AssertEveryPointReadsAsItsNightAsync();
            Assert.Empty(folder.StrayFiles());
        }
        else
        {
            await AssertForgottenAsync(folder);
        }
    }
}
