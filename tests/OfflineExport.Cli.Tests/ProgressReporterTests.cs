using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Cli.Tests;

/// <summary>What progress looks like on a terminal and in a log.</summary>
public sealed class ProgressReporterTests
{
    private const ulong MiB = 1 << 20;

    [Fact]
    public void A_log_gets_the_start_and_the_end_as_plain_lines_and_little_in_between()
    {
        var console = new TestConsole(errorIsTerminal: false);
        var reporter = new ProgressReporter(console.Console);

        reporter.Report(Progress(0, 64, 0));
        reporter.Report(Progress(16, 64, 1));
        reporter.Report(Progress(32, 64, 2));
        reporter.Report(Progress(64, 64, 4));
        reporter.Finish();

        var lines = console.Error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["copying 64.0 MiB (67108864 bytes)", "copied 64.0 MiB in 4.0 s (16.0 MiB/s)"], lines);
        Assert.DoesNotContain('\r', console.Error.ToString());
    }

    [Fact]
    public void A_terminal_gets_one_line_redrawn_in_place_and_erased_at_the_end_for_the_result()
    {
        var console = new TestConsole(errorIsTerminal: true, columns: 120);
        var reporter = new ProgressReporter(console.Console);

        reporter.Report(new DiskProgress("vda", 0, 2, Progress(32, 64, 2)));
        reporter.Report(new DiskProgress("vda", 0, 2, Progress(64, 64, 4)));
        reporter.Finish();

        var text = console.Error.ToString();
        Assert.Equal(3, text.Count(c => c == '\r'));
        Assert.Contains("\rvda (1/2) [###############---------------]  50%  32.0 MiB / 64.0 MiB", text, StringComparison.Ordinal);
        Assert.Contains("\rvda (1/2) [##############################] 100%", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\x1b[K", text, StringComparison.Ordinal); // the result line takes the bar's place
        Assert.DoesNotContain('\n', text);
    }

    [Fact]
    public void An_error_after_a_bar_starts_on_a_line_of_its_own_and_the_bar_stays()
    {
        var console = new TestConsole(errorIsTerminal: true, columns: 80);
        new ProgressReporter(console.Console, "vda.qcow2").Report(Progress(16, 64, 2));

        console.Console.EndProgress(keep: true);
        console.Error.Write("offline-export: interrupted by SIGINT; stopped and cleaned up");

        var lines = console.Error.ToString().Split(Environment.NewLine);
        Assert.StartsWith("\rvda.qcow2 [", lines[0], StringComparison.Ordinal);
        Assert.Equal("offline-export: interrupted by SIGINT; stopped and cleaned up", lines[1]);
    }

    [Fact]
    public void Reports_faster_than_ten_a_second_are_drawn_at_most_ten_times_a_second_with_the_first_and_the_last()
    {
        var console = new TestConsole(errorIsTerminal: true, columns: 80);
        var reporter = new ProgressReporter(console.Console);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (ulong done = 0; done <= 1000; done++)
        {
            reporter.Report(new ExportProgress(done * MiB, 1000 * MiB, done * MiB, 0, TimeSpan.FromSeconds(done / 1000.0)));
        }

        var frames = console.Error.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(frames.Length, 2, 2 + (int)(clock.Elapsed.TotalSeconds * 10));
        Assert.Contains("  0%", frames[0], StringComparison.Ordinal);
        Assert.Contains("100%", frames[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_step_names_itself_before_the_bar_and_in_a_log()
    {
        var terminal = new TestConsole(errorIsTerminal: true, columns: 100);
        var log = new TestConsole(errorIsTerminal: false);
        var verify = new ExportProgress(32 * MiB, 64 * MiB, 0, 0, TimeSpan.FromSeconds(1)) { Step = ProgressStep.Verify };

        new ProgressReporter(terminal.Console, "vda.qcow2").Report(verify);
        new ProgressReporter(log.Console, "vda.qcow2").Report(verify with { BytesDone = 0 });

        Assert.StartsWith("\rvda.qcow2 verifying [", terminal.Error.ToString(), StringComparison.Ordinal);
        Assert.Equal("vda.qcow2 verifying 64.0 MiB (67108864 bytes)" + Environment.NewLine, log.Error.ToString());
    }

    [Fact]
    public void A_run_of_one_disk_names_the_disk_without_a_count()
    {
        var console = new TestConsole(errorIsTerminal: true, columns: 100);

        new ProgressReporter(console.Console).Report(new DiskProgress("vda", 0, 1, Progress(16, 64, 2)));

        Assert.StartsWith("\rvda [", console.Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Finish_without_a_bar_writes_nothing()
    {
        var console = new TestConsole(errorIsTerminal: true);

        new ProgressReporter(console.Console).Finish();

        Assert.Equal(string.Empty, console.Error.ToString());
    }

    [Fact]
    public void A_copy_of_nothing_is_one_plain_line()
    {
        var console = new TestConsole(errorIsTerminal: false);
        var reporter = new ProgressReporter(console.Console);

        reporter.Report(new DiskProgress("vdb", 1, 2, Progress(0, 0, 0)));
        reporter.Report(new DiskProgress("vdb", 1, 2, Progress(0, 0, 0)));

        Assert.Equal("vdb (2/2) copied 0 B in 0.0 s (0 B/s)" + Environment.NewLine, console.Error.ToString());
    }

    [Theory]
    [InlineData(120, "vda (1/2) [########----------------------]  25%  222.5 MiB / 890.0 MiB  8.0 MiB/s  1 min 23 s left")]
    [InlineData(80, "vda (1/2) [#####---------------]  25%  222.5 MiB / 890.0 MiB  1 min 23 s left")]
    [InlineData(70, "vda (1/2) [##--------]  25%  222.5 MiB / 890.0 MiB  1 min 23 s left")]
    [InlineData(50, "vda (1/2) [########----------------------]  25%")]
    [InlineData(30, "vda (1/2) [##--------]  25%")]
    [InlineData(26, "vda… [##--------]  25%")]
    [InlineData(20, "[##--------]  25%")]
    public void The_bar_fits_the_terminal_s_width_dropping_the_least_useful_parts_first(int columns, string expected)
    {
        var line = ProgressReporter.FormatBar("vda (1/2)", new ExportProgress(233_308_160, 933_232_640, 233_308_160, 0, TimeSpan.FromSeconds(27.8125)), columns);

        Assert.Equal(expected, line);
        Assert.True(line.Length <= columns - 3, $"{line.Length} characters leave no room for Ctrl-C's echo at {columns} columns");
    }

    [Theory]
    [InlineData(70)]
    [InlineData(80)]
    [InlineData(120)]
    public void A_long_copy_on_a_terminal_never_leaves_more_than_one_line(int columns)
    {
        var console = new TestConsole(errorIsTerminal: true, columns: columns);
        var reporter = new ProgressReporter(console.Console);

        for (ulong done = 0; done <= 890; done += 10)
        {
            reporter.Report(new DiskProgress("a-rather-long-disk-name", 0, 1, new ExportProgress(done * MiB, 890 * MiB, done * MiB, 0, TimeSpan.FromSeconds(done / 40.0))));
        }

        var frames = console.Error.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Replace("\x1b[K", string.Empty, StringComparison.Ordinal)).ToList();
        Assert.InRange(frames.Count, 2, 90); // at most 10 a second, but the first and the last
        Assert.Contains("100%", frames[^1], StringComparison.Ordinal);
        Assert.All(frames, f => Assert.True(f.Length < columns, $"'{f}' ({f.Length}) wraps at {columns} columns"));
        Assert.DoesNotContain('\n', console.Error.ToString());
    }

    private static ExportProgress Progress(ulong doneMiB, ulong totalMiB, double seconds) =>
        new(doneMiB * MiB, totalMiB * MiB, doneMiB * MiB, 0, TimeSpan.FromSeconds(seconds));
}
