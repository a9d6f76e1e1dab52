using OfflineExport.Backup;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>
/// Progress on stderr: one line redrawn in place on a terminal; otherwise a plain line every 10
/// seconds (no carriage-return animation in logs).
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
    public void Report(ExportProgress value) => Show(null, value);

    /// <summary>Shows one disk's progress within a backup run.</summary>
    public void Report(DiskProgress value) => Show($"{value.Disk} ({value.Index + 1}/{value.Count}): ", value.Export);

    private void Show(string? label, ExportProgress value)
    {
        lock (_gate)
        {
            var line = label + Format(value);
            if (_console.ErrorIsTerminal)
            {
                _console.Error.Write("\r" + line.PadRight(78));
                _drawn = true;
            }
            else if (_lastPlain is null || value.Elapsed - _lastPlain >= PlainInterval || value.BytesDone == value.BytesTotal)
            {
                _lastPlain = value.Elapsed;
                _console.Error.WriteLine(line);
            }
        }
    }

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

    /// <summary>"312.0 MiB / 1.2 GiB (25%), 410.3 MiB/s, 2.3 s left".</summary>
    public static string Format(ExportProgress value)
    {
        var percent = (int)(value.Fraction * 100);
        var rate = value.BytesPerSecond;
        var left = rate > 0 ? TimeSpan.FromSeconds((value.BytesTotal - value.BytesDone) / rate) : TimeSpan.Zero;
        return $"{Units.Bytes(value.BytesDone)} / {Units.Bytes(value.BytesTotal)} ({percent}%), {Units.Bytes(rate)}/s, {Units.Duration(left)} left";
    }
}
