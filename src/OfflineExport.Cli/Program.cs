using System.CommandLine;
using OfflineExport.Cli;
using OfflineExport.Cli.Usage;

using var interruption = new Interruption();
var runner = new CommandRunner(CliConsole.System, interruption);

var root = CommandTree.Build(runner);
// --version answers wherever it is typed ("offline-export export --version"), as --help does.
var parse = root.Parse(args.TakeWhile(a => a != "--").Contains("--version") ? ["--version"] : args);
if (!UsageCheck.AsksForHelp(parse) && UsageCheck.Problem(parse, args) is { } problem)
{
    // Usage errors exit 2 (System.CommandLine would exit 1, which our tool reserves for "different").
    var message = $"{problem}; see '{UsageCheck.Verb(parse.CommandResult)} --help'";
    Console.Error.WriteLine($"offline-export: error: {message}");
    if (UsageCheck.AsksForJson(parse))
    {
        await JsonOutput.WriteAsync(Console.Out, ResultJson.OfError(problem, ExitCodes.Usage));
    }

    return ExitCodes.Usage;
}

var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await parse.InvokeAsync(configuration, interruption.Token);
