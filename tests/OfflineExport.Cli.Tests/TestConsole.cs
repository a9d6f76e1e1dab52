using OfflineExport.Export;

namespace OfflineExport.Cli.Tests;

/// <summary>A console over strings, and a verb context on it, for the CLI's tests.</summary>
internal sealed class TestConsole
{
    public TestConsole(bool errorIsTerminal = false) => Console = new CliConsole(Out, Error, errorIsTerminal);

    public StringWriter Out { get; } = new();

    public StringWriter Error { get; } = new();

    public CliConsole Console { get; }

    public VerbContext Context(bool quiet = false) => new(Console, new ExportOptions(), quiet);
}
