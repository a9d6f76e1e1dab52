using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OfflineExport.Qemu;

/// <summary>
/// What <c>qemu-img -p</c> writes on stdout: "    (12.34/100%)" redrawn with carriage returns. Read as it
/// comes, each value is reported as a fraction; the buffered text is given back without it.
/// </summary>
public static partial class QemuProgressOutput
{
    /// <summary>Reads <paramref name="stream"/> to its end, calling <paramref name="report"/> with each fraction (0 to 1) qemu-img prints.</summary>
    public static async Task ReadAsync(Stream stream, Action<double> report, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var line = new StringBuilder();
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var c = (char)buffer[i];
                if (c is '\r' or '\n')
                {
                    if (Parse(line.ToString()) is { } fraction)
                    {
                        report(fraction);
                    }

                    line.Clear();
                }
                else if (line.Length < 256)
                {
                    line.Append(c);
                }
            }
        }
    }

    /// <summary>The fraction one progress line shows, or null when it is no progress line.</summary>
    public static double? Parse(string line) =>
        Percent().Match(line) is { Success: true } match
        && double.TryParse(match.Groups["percent"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent)
            ? Math.Clamp(percent / 100, 0, 1)
            : null;

    /// <summary><paramref name="text"/> without qemu-img's progress lines: what it says besides them.</summary>
    public static string WithoutProgress(string text) => Progress().Replace(text, string.Empty);

    [GeneratedRegex(@"^\s*\((?<percent>\d+(?:\.\d+)?)/100%\)\s*$")]
    private static partial Regex Percent();

    [GeneratedRegex(@"[ \t]*\(\d+(?:\.\d+)?/100%\)[ \t]*\r?")]
    private static partial Regex Progress();
}
