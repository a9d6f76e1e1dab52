using System.CommandLine;
using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>Runs a command's body and turns any failure into one line on stderr and an exit code.</summary>
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

    /// <summary>Cancelled by SIGINT/SIGTERM.</summary>
    public CancellationToken Cancellation => _interruption.Token;

    /// <summary>Export options for a parsed command line: --verbose sends qemu commands and QMP traffic to stderr.</summary>
    public ExportOptions ExportOptions(ParseResult parse) => new()
    {
        Log = parse.GetValue(CommonOptions.Verbose) ? line => _console.Error.WriteLine("  " + line) : null,
    };

    /// <summary>Runs <paramref name="body"/>; returns its exit code, or the failure's.</summary>
    public async Task<int> RunAsync(bool verbose, Func<CancellationToken, Task<int>> body)
    {
        try
        {
            return await body(_interruption.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_interruption.Signal is not null)
        {
            await _console.Error.WriteLineAsync($"offline-export: interrupted by {_interruption.Signal}; stopped and cleaned up").ConfigureAwait(false);
            return _interruption.ExitCode;
        }
        catch (Exception ex)
        {
            var code = ExitCodes.FromException(ex);
            var message = OneLine(ex.Message);
            await _console.Error.WriteLineAsync($"offline-export: error: {message}").ConfigureAwait(false);
            if (verbose)
            {
                await _console.Error.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
            }
            else if (code == ExitCodes.InternalError)
            {
                await _console.Error.WriteLineAsync("offline-export: this is a bug; run again with --verbose for details").ConfigureAwait(false);
            }

            return code;
        }
    }

    private static string OneLine(string message) =>
        string.Join(" | ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
