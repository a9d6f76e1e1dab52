using System.Globalization;
using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>
/// Progress on stderr. On a terminal: one line with a bar, fitted to the terminal's width and redrawn in
/// place, erased at the end so the result line takes its place. Otherwise (a log, a pipe): no carriage
/// returns, just a plain line at the start, every 10 seconds, and at the end.
/// </summary>
public sealed class ProgressReporter : IProgress<ExportProgress>, IProgress<DiskProgress>
{
    private const int WidestBar = 30;
    private const int NarrowestBar = 10;
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(100);
    private readonly System.Diagnostics.Stopwatch _sinceFrame = System.Diagnostics.Stopwatch.StartNew();
    private readonly CliConsole _console;
    private readonly string _label;
    private readonly object _gate = new();
    private TimeSpan? _lastPlain;
    private string? _lastLabel;
    private bool _endTold;

    /// <summary>Creates a reporter on <paramref name="console"/>'s stderr.</summary>
    /// <param name="console">Where to draw.</param>
    /// <param name="label">What is being copied (an export's disk), shown before the bar; empty for none.</param>
    public ProgressReporter(CliConsole console, string label = "")
    {
        _console = console;
        _label = label;
    }

    /// <summary>Shows <paramref name="value"/>.</summary>
    public void Report(ExportProgress value) => Show(_label, value);

    /// <summary>Shows one disk's progress within a backup run (or one point's within a forget).</summary>
    public void Report(DiskProgress value) =>
        Show(value.Count > 1 ? $"{value.Disk} ({value.Index + 1}/{value.Count})" : value.Disk, value.Export);

    /// <summary>The word before the bar: none for an export's copy, which the result line names.</summary>
    public static string? Doing(ProgressStep step) => step == ProgressStep.Copy ? null : Words(step).Doing;

    /// <summary>What a step is called while it runs and once it is done.</summary>
    private static (string Doing, string Done) Words(ProgressStep step) => step switch
    {
        ProgressStep.Verify => ("verifying", "verified"),
        ProgressStep.Restore => ("restoring", "restored"),
        ProgressStep.Read => ("reading", "read"),
        ProgressStep.Merge => ("merging", "merged"),
        _ => ("copying", "copied"),
    };

    /// <summary>Erases the in-place line: the result is printed where it was.</summary>
    public void Finish() => _console.EndProgress(keep: false);

    /// <summary>
    /// The in-place line, at most <paramref name="columns"/> − 3 characters (a terminal wraps a line that
    /// fills its last column, and Ctrl-C's echo "^C" must fit after it): "vda [#######------]  35%  312.0 MiB / 890.0 MiB  410.3 MiB/s  1.4 s left".
    /// Narrow terminals lose the rate, then the time left, then the sizes; the label is cut last.
    /// </summary>
    public static string FormatBar(string label, ExportProgress value, int columns)
    {
        // Two columns spare beyond the last: the terminal echoes Ctrl-C as "^C" after the bar.
        var room = columns - 3;
        var percent = string.Create(CultureInfo.InvariantCulture, $" {(int)(value.Fraction * 100),3}%");
        var sizes = $"  {Units.Bytes(value.BytesDone)} / {Units.Bytes(value.BytesTotal)}";
        var rate = $"  {Units.Bytes(value.BytesPerSecond)}/s";
        var left = $"  {Units.Duration(TimeLeft(value))} left";
        var prefix = label.Length == 0 ? string.Empty : label + " ";
        string[][] layouts = [[sizes, rate, left], [sizes, left], [sizes], []];
        foreach (var layout in layouts)
        {
            var tail = percent + string.Concat(layout);
            var bar = Math.Min(WidestBar, room - prefix.Length - tail.Length - 2);
            if (bar >= NarrowestBar)
            {
                return prefix + Bar(value.Fraction, bar) + tail;
            }
        }

        // Too narrow even for the bar and the percentage: the label gives way.
        var barOnly = Bar(value.Fraction, NarrowestBar) + percent;
        var keep = room - barOnly.Length - 1;
        return (keep < 4 ? string.Empty : Cut(label, keep) + " ") + barOnly;
    }

    /// <summary>A log line: the start, a step, or the end.</summary>
    public static string FormatPlain(ExportProgress value)
    {
        var (doing, done) = Words(value.Step);
        if (value.BytesDone >= value.BytesTotal)
        {
            return $"{done} {Units.Bytes(value.BytesTotal)} in {Units.Duration(value.Elapsed)} ({Units.Bytes(value.BytesPerSecond)}/s)";
        }

        if (value.BytesDone == 0)
        {
            return $"{doing} {Units.Bytes(value.BytesTotal)} ({value.BytesTotal} bytes)";
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{(int)(value.Fraction * 100)}% ({Units.Bytes(value.BytesDone)} of {Units.Bytes(value.BytesTotal)}), {Units.Bytes(value.BytesPerSecond)}/s, {Units.Duration(TimeLeft(value))} left");
    }

    private static string Bar(double fraction, int width)
    {
        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return "[" + new string('#', filled) + new string('-', width - filled) + "]";
    }

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..Math.Max(0, length - 1)].TrimEnd() + "…";

    private static TimeSpan TimeLeft(ExportProgress value) =>
        value.BytesPerSecond > 0 ? TimeSpan.FromSeconds((value.BytesTotal - value.BytesDone) / value.BytesPerSecond) : TimeSpan.Zero;

    private static string WithStep(string label, ProgressStep step) =>
        Doing(step) is { } doing ? (label.Length == 0 ? doing : $"{label} {doing}") : label;

    private void Show(string label, ExportProgress value)
    {
        lock (_gate)
        {
            if (_console.ErrorIsTerminal)
            {
                // At most 10 frames a second (a checksum reports every MiB), but every first and last one.
                var shown = WithStep(label, value.Step);
                var edge = value.BytesDone == 0 || value.BytesDone >= value.BytesTotal || shown != _lastLabel;
                if (edge || _sinceFrame.Elapsed >= FrameInterval)
                {
                    _lastLabel = shown;
                    _sinceFrame.Restart();
                    _console.ShowProgress(FormatBar(shown, value, _console.ErrorColumns));
                }

                return;
            }

            // A log line says what it does itself ("verifying 1.0 GiB"), after the disk.
            var key = $"{label}/{value.Step}";

            // A line at each disk's start (a copy of nothing starts and ends at once: one line), one every
            // 10 seconds, one at its end.
            if (key != _lastLabel)
            {
                _lastLabel = key;
                _lastPlain = null;
                _endTold = false;
            }

            var isEnd = value.BytesDone >= value.BytesTotal;
            if (!_endTold && (isEnd || _lastPlain is null || value.Elapsed - _lastPlain >= PlainInterval))
            {
                _lastPlain = value.Elapsed;
                _endTold = isEnd;
                _console.Error.WriteLine((label.Length == 0 ? string.Empty : label + " ") + FormatPlain(value));
            }
        }
    }
}
