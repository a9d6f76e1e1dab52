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
    public void A_terminal_gets_one_line_redrawn_in_place_and_a_newline_at_the_end()
    {
        var console = new TestConsole(errorIsTerminal: true);
        var reporter = new ProgressReporter(console.Console);

        reporter.Report(new DiskProgress("vda", 0, 2, Progress(32, 64, 2)));
        reporter.Report(new DiskProgress("vda", 0, 2, Progress(64, 64, 4)));
        reporter.Finish();

        var text = console.Error.ToString();
        Assert.Equal(2, text.Count(c => c == '\r'));
        Assert.Contains("\rvda (1/2) [##########----------]  50%  32.0 MiB / 64.0 MiB", text, StringComparison.Ordinal);
        Assert.Contains("\rvda (1/2) [####################] 100%", text, StringComparison.Ordinal);
        Assert.EndsWith("\x1b[K" + Environment.NewLine, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Finish_without_a_bar_writes_nothing()
    {
        var console = new TestConsole(errorIsTerminal: true);

        new ProgressReporter(console.Console).Finish();

        Assert.Equal(string.Empty, console.Error.ToString());
    }

    [Fact]
    public void The_bar_shows_rate_and_time_left()
    {
        var bar = ProgressReporter.FormatBar(Progress(16, 64, 2));

        Assert.Equal("[#####---------------]  25%  16.0 MiB / 64.0 MiB  8.0 MiB/s  6.0 s left", bar);
    }

    private static ExportProgress Progress(ulong doneMiB, ulong totalMiB, double seconds) =>
        new(doneMiB * MiB, totalMiB * MiB, doneMiB * MiB, 0, TimeSpan.FromSeconds(seconds));
}
