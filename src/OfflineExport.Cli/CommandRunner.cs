using System.CommandLine;
using OfflineExport.Cli.Configuration;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>
/// Runs a command's body and turns any failure into one line on stderr (and, with --json, an
/// {"error": …} object on stdout) and the exit code decided in <see cref="ExitCodes"/>.
/// </summary>
public sealed class CommandRunner
{
    private readonly CliConsole _console;
    private readonly Interruption _interruption;

    /// <summary>Creates the runner.</summary>
    public CommandRunner(CliConsole console, Interruption interruption)
    {
        _console = console;
        _interruption = interruption;
    }

    /// <summary>The console commands write to.</summary>
    public CliConsole Console => _console;

    /// <summary>
    /// Runs a verb: builds its <see cref="VerbContext"/> from the layered configuration (see
    /// <see cref="ConfigurationLayers"/>; --verbose sends qemu commands and QMP traffic to stderr) and calls
    /// <paramref name="verb"/>; returns its exit code, or the failure's.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, bool json, Func<VerbContext, CancellationToken, Task<int>> verb)
    {
        var verbose = parse.GetValue(CommonOptions.Verbose);
        try
        {
            // Whatever the verb, a killed run before this one leaves nothing of the .NET runtime behind.
            OfflineExport.Processes.RuntimeEndpoints.RemoveStale();
            var context = new VerbContext(_console, BuildOptions(parse, verbose), parse.GetValue(CommonOptions.Quiet), verbose);
            return await verb(context, _interruption.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (_interruption.Signal is not null)
        {
            var message = $"interrupted by {_interruption.Signal}; stopped and cleaned up{(ex is RunInterruptedException interrupted ? "; " + interrupted.Outcome : string.Empty)}";
            await ReportAsync(json, message, _interruption.ExitCode, verbose ? ex : null).ConfigureAwait(false);
            return _interruption.ExitCode;
        }
        catch (Exception ex)
        {
            var code = ExitCodes.FromException(ex);
            await ReportAsync(json, OneLine(ex.Message), code, verbose ? ex : null).ConfigureAwait(false);
            if (!verbose && code == ExitCodes.InternalError)
            {
                await _console.Error.WriteLineAsync("offline-export: this is a bug; run again with --verbose for details").ConfigureAwait(false);
            }

            return code;
        }
    }

    private ExportOptions BuildOptions(ParseResult parse, bool verbose)
    {
        var configuration = ConfigurationLayers.Build(parse.GetValue(CommonOptions.Config), parse.GetValue(CommonOptions.Set) ?? []);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Action<string>? log = verbose
            ? line =>
            {
                // Below the bar, not on top of it: the next frame starts on a line of its own.
                _console.EndProgress(keep: true);
                _console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  [{clock.Elapsed.TotalSeconds,7:F3}] {line}"));
            }
            : null;
        return Settings.ToExportOptions(configuration, log);
    }

    private async Task ReportAsync(bool json, string message, int code, Exception? detail)
    {
        // The bar stays where it stopped; the message starts on a line of its own.
        _console.EndProgress(keep: true);
        var prefix = code is ExitCodes.Interrupted or ExitCodes.Terminated ? "offline-export: " : "offline-export: error: ";
        await _console.Error.WriteLineAsync(prefix + message).ConfigureAwait(false);
        if (detail is not null)
        {
            await _console.Error.WriteLineAsync(detail.ToString()).ConfigureAwait(false);
        }

        if (json)
        {
            await JsonOutput.WriteAsync(_console.Out, ResultJson.OfError(message, code)).ConfigureAwait(false);
        }
    }

    private static string OneLine(string message) =>
        string.Join(" | ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
