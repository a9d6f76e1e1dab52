using System.Globalization;
using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>
/// Progress on stderr. On a terminal: one line with a bar, redrawn in place. Otherwise (a log, a pipe):
/// no carriage returns, just a plain line at the start, every 10 seconds, and at the end.
/// </summary>
public sealed class ProgressReporter : IProgress<ExportProgress>, IProgress<DiskProgress>
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);
    private readonly CliConsole _console;
    private readonly object _gate = new();
    private TimeSpan? _lastPlain;
    private bool _drawn;

    /// <summary>Creates a reporter on <paramref name="console"/>'s stderr.</summary>
    public ProgressReporter(CliConsole console) => _console = console;

    /// <summary>Shows <paramref name="value"/>.</summary>
    public void Report(ExportProgress value) => Show(string.Empty, value);

    /// <summary>Shows one disk's progress within a backup run.</summary>
    public void Report(DiskProgress value) => Show($"{value.Disk} ({value.Index + 1}/{value.Count}) ", value.Export);

    /// <summary>Ends the in-place line.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            if (_drawn)
            {
                _console.Error.WriteLine();
                _drawn = false;
            }
        }
    }

    /// <summary>The in-place line: "[#######-------------]  35%  312.0 MiB / 890.0 MiB  410.3 MiB/s  1.4 s left".</summary>
    public static string FormatBar(ExportProgress value, int width = 20)
    {
        var filled = (int)Math.Round(value.Fraction * width);
        var bar = new string('#', filled) + new string('-', width - filled);
        return string.Create(CultureInfo.InvariantCulture,
            $"[{bar}] {(int)(value.Fraction * 100),3}%  {Units.Bytes(value.BytesDone)} / {Units.Bytes(value.BytesTotal)}  {Units.Bytes(value.BytesPerSecond)}/s  {Units.Duration(TimeLeft(value))} left");
    }

    /// <summary>A log line: the start, a step, or the end.</summary>
    public static string FormatPlain(ExportProgress value)
    {
        if (value.BytesDone == 0 && value.BytesTotal > 0)
        {
            return $"copying {Units.Bytes(value.BytesTotal)} ({value.BytesTotal} bytes)";
        }

        if (value.BytesDone >= value.BytesTotal)
        {
            return $"copied {Units.Bytes(value.BytesTotal)} in {Units.Duration(value.Elapsed)} ({Units.Bytes(value.BytesPerSecond)}/s)";
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{(int)(value.Fraction * 100)}% ({Units.Bytes(value.BytesDone)} of {Units.Bytes(value.BytesTotal)}), {Units.Bytes(value.BytesPerSecond)}/s, {Units.Duration(TimeLeft(value))} left");
    }

    private static TimeSpan TimeLeft(ExportProgress value) =>
        value.BytesPerSecond > 0 ? TimeSpan.FromSeconds((value.BytesTotal - value.BytesDone) / value.BytesPerSecond) : TimeSpan.Zero;

    private void Show(string label, ExportProgress value)
    {
        lock (_gate)
        {
            if (_console.ErrorIsTerminal)
            {
                // \x1b[K clears what a longer previous line left behind.
                _console.Error.Write("\r" + label + FormatBar(value) + "\x1b[K");
                _drawn = true;
                return;
            }

            var isEdge = value.BytesDone == 0 || value.BytesDone >= value.BytesTotal;
            if (isEdge || _lastPlain is null || value.Elapsed - _lastPlain >= PlainInterval)
            {
                _lastPlain = value.Elapsed;
                _console.Error.WriteLine(label + FormatPlain(value));
            }
        }
    }
}
