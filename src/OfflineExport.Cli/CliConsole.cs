using Spectre.Console;

namespace OfflineExport.Cli;

/// <summary>Where the CLI writes: results on stdout, errors and progress on stderr.</summary>
public sealed class CliConsole
{
    /// <summary>Creates a console over the given writers.</summary>
    public CliConsole(TextWriter output, TextWriter error, bool errorIsTerminal)
    {
        Out = output;
        Error = error;
        ErrorIsTerminal = errorIsTerminal;
    }

    /// <summary>Results.</summary>
    public TextWriter Out { get; }

    /// <summary>Errors, logs and progress.</summary>
    public TextWriter Error { get; }

    /// <summary>True when stderr is a terminal (progress may animate).</summary>
    public bool ErrorIsTerminal { get; }

    /// <summary>A Spectre.Console writer on <paramref name="writer"/>: colours only on a terminal, wide when redirected.</summary>
    public IAnsiConsole Spectre(TextWriter writer)
    {
        var isTerminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!isTerminal)
        {
            console.Profile.Width = 200;
        }

        return console;
    }

    /// <summary>The process's own console.</summary>
    public static CliConsole System { get; } = new(Console.Out, Console.Error, !Console.IsErrorRedirected);
}
