using Spectre.Console;

namespace OfflineExport.Cli;

/// <summary>
/// Where the CLI writes: results on stdout, errors and progress on stderr. It knows whether a progress line
/// is drawn on stderr, so whatever prints next (a result, a note, an error, Ctrl-C's message) starts on a
/// line of its own.
/// </summary>
public sealed class CliConsole
{
    private readonly Func<int> _errorColumns;
    private readonly bool _outputIsTerminal;
    private readonly object _lineGate = new();
    private bool _progressShown;

    /// <summary>Creates a console over the given writers.</summary>
    /// <param name="output">Results.</param>
    /// <param name="error">Errors, logs and progress.</param>
    /// <param name="errorIsTerminal">True when <paramref name="error"/> is a terminal (progress may animate).</param>
    /// <param name="errorColumns">The width of that terminal, asked at every redraw; null: <see cref="TerminalWidth.Default"/>.</param>
    /// <param name="outputIsTerminal">True when <paramref name="output"/> is a terminal (tables may use colour).</param>
    public CliConsole(TextWriter output, TextWriter error, bool errorIsTerminal, Func<int>? errorColumns = null, bool outputIsTerminal = false)
    {
        Out = output;
        Error = error;
        ErrorIsTerminal = errorIsTerminal;
        _errorColumns = errorColumns ?? (() => TerminalWidth.Default);
        _outputIsTerminal = outputIsTerminal;
    }

    /// <summary>Results.</summary>
    public TextWriter Out { get; }

    /// <summary>Errors, logs and progress.</summary>
    public TextWriter Error { get; }

    /// <summary>True when stderr is a terminal (progress may animate).</summary>
    public bool ErrorIsTerminal { get; }

    /// <summary>The columns a line on stderr may use now.</summary>
    public int ErrorColumns => Math.Max(20, _errorColumns());

    /// <summary>The process's own console.</summary>
    public static CliConsole System { get; } = new(
        Console.Out, Console.Error, !Console.IsErrorRedirected, () => TerminalWidth.Of(2), !Console.IsOutputRedirected);

    /// <summary>Draws <paramref name="line"/> (which fits <see cref="ErrorColumns"/>) over the progress line, in place.</summary>
    public void ShowProgress(string line)
    {
        lock (_lineGate)
        {
            // \x1b[K clears what a longer previous line left behind.
            Error.Write("\r" + line + "\x1b[K");
            _progressShown = true;
        }
    }

    /// <summary>
    /// Ends a drawn progress line: erased when the result will take its place, kept and ended with a newline
    /// when <paramref name="keep"/> (an error or an interruption: where it stopped is worth seeing).
    /// </summary>
    public void EndProgress(bool keep)
    {
        lock (_lineGate)
        {
            if (_progressShown)
            {
                Error.Write(keep ? Environment.NewLine : "\r\x1b[K");
                _progressShown = false;
            }
        }
    }

    /// <summary>
    /// A Spectre.Console writer on <paramref name="writer"/>: colours only on a terminal; as wide as the
    /// terminal, or as $COLUMNS or 80 columns when piped, so a mail from cron reads like the screen.
    /// </summary>
    public IAnsiConsole Spectre(TextWriter writer)
    {
        var isTerminal = ReferenceEquals(writer, Out) && _outputIsTerminal;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = TerminalWidth.ForOutput(isTerminal);
        return console;
    }
}
