using System.Globalization;
using System.Runtime.InteropServices;

namespace OfflineExport.Cli;

/// <summary>How many columns a terminal has: asked of the kernel for the very descriptor written to.</summary>
public static partial class TerminalWidth
{
    /// <summary>What a line may use when nothing says otherwise: a terminal's classic width, and a pipe's.</summary>
    public const int Default = 80;

    private const nuint GetWindowSize = 0x5413; // TIOCGWINSZ on Linux

    /// <summary>
    /// The columns of the terminal on <paramref name="fd"/>, read at each call (the window may be resized);
    /// else $COLUMNS; else <see cref="Default"/>.
    /// </summary>
    public static int Of(int fd)
    {
        // struct winsize: rows, columns, x pixels, y pixels (four unsigned shorts).
        Span<ushort> size = stackalloc ushort[4];
        if (GetSize(fd, GetWindowSize, ref MemoryMarshal.GetReference(size)) == 0 && size[1] > 0)
        {
            return size[1];
        }

        return FromEnvironment() ?? Default;
    }

    /// <summary>
    /// The width for tables and help on stdout: the terminal's when it is one; piped (a pager, a mail from
    /// cron), $COLUMNS or <see cref="Default"/>, so what is mailed reads like the screen.
    /// </summary>
    public static int ForOutput(bool isTerminal) => isTerminal ? Of(1) : FromEnvironment() ?? Default;

    /// <summary>$COLUMNS when it holds a sane width, else null.</summary>
    public static int? FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns is >= 20 and <= 1000
            ? columns
            : null;

    [LibraryImport("libc", EntryPoint = "ioctl")]
    private static partial int GetSize(int fd, nuint request, ref ushort size);
}
