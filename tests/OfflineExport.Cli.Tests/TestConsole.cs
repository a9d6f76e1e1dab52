using OfflineExport.Export;

namespace OfflineExport.Cli.Tests;

/// <summary>A console over strings, and a verb context on it, for the CLI's tests.</summary>
internal sealed class TestConsole
{
    public TestConsole(bool errorIsTerminal = false, int columns = 80) => Console = new CliConsole(Out, Error, errorIsTerminal, () => columns);

    public StringWriter Out { get; } = new();

    public StringWriter Error { get; } = new();

    public CliConsole Console { get; }

    public VerbContext Context(bool quiet = false, bool verbose = false) => new(Console, new ExportOptions(), quiet, verbose);
}
