using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace OfflineExport.Cli;

/// <summary>The standard help, followed by the exit codes: they are part of every command's contract.</summary>
public sealed class HelpWithExitCodes : SynchronousCommandLineAction
{
    private readonly HelpAction _inner;

    /// <summary>Wraps the standard help action.</summary>
    public HelpWithExitCodes(HelpAction inner) => _inner = inner;

    /// <summary>Prints the help, then the exit codes.</summary>
    public override int Invoke(ParseResult parseResult)
    {
        _inner.MaxWidth = TerminalWidth.ForOutput(!Console.IsOutputRedirected);
        var code = _inner.Invoke(parseResult);
        var output = parseResult.InvocationConfiguration.Output;
        output.WriteLine(ExitCodes.HelpTable);
        output.WriteLine();
        output.WriteLine("Configuration, later wins: /etc/offline-export/config.json,");
        output.WriteLine("~/.config/offline-export/config.json, --config FILE, OFFLINE_EXPORT_* variables");
        output.WriteLine("(e.g. OFFLINE_EXPORT_Tools__QemuImg), --set KEY=VALUE.");
        return code;
    }

    /// <summary>Installs the wrapper on <paramref name="root"/>'s help option.</summary>
    public static void Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExitCodes((HelpAction)help.Action!);
    }
}
