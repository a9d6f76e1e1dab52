using OfflineExport.Export;

namespace OfflineExport.Cli;

/// <summary>
/// What a verb's <c>RunAsync</c> gets besides its own arguments: where to write, the library's options
/// (from the layered configuration) and whether notes and progress are wanted. Built by
/// <see cref="CommandRunner"/>, or by a test without any parser.
/// </summary>
public sealed class VerbContext
{
    /// <summary>Creates the context.</summary>
    public VerbContext(CliConsole console, ExportOptions options, bool quiet, bool verbose = false)
    {
        Console = console;
        Options = options;
        Quiet = quiet;
        Verbose = verbose;
    }

    /// <summary>Where results (stdout) and messages (stderr) go.</summary>
    public CliConsole Console { get; }

    /// <summary>The library's tools and tuning.</summary>
    public ExportOptions Options { get; }

    /// <summary>--quiet: no progress, no notes and no success summaries (warnings and errors still print).</summary>
    public bool Quiet { get; }

    /// <summary>--verbose: tables show full checkpoint names, not short references.</summary>
    public bool Verbose { get; }

    /// <summary>A progress display labelled <paramref name="label"/> (an export's disk), or null with --quiet or --json.</summary>
    public ProgressReporter? Progress(bool json, string label = "") => Quiet || json ? null : new ProgressReporter(Console, label);

    /// <summary>
    /// Prints a success summary on stdout, unless --quiet: a quiet run that works prints nothing, so cron mails
    /// only failures and warnings. <paramref name="asked"/> (a dry run's plan, a damage report) prints anyway.
    /// </summary>
    public async Task ResultAsync(string line, bool asked = false)
    {
        if (!Quiet || asked)
        {
            Console.EndProgress(keep: false);
            await Console.Out.WriteLineAsync(line).ConfigureAwait(false);
        }
    }

    /// <summary>Prints a result's notes on stderr, one "offline-export: note: …" line each; --quiet leaves them to --json.</summary>
    public async Task NotesAsync(IReadOnlyList<string> notes)
    {
        if (Quiet)
        {
            return;
        }

        Console.EndProgress(keep: false);
        foreach (var note in notes)
        {
            await Console.Error.WriteLineAsync($"offline-export: note: {note}").ConfigureAwait(false);
        }
    }

    /// <summary>Prints a result's warnings on stderr, one "offline-export: warning: …" line each, even with --quiet.</summary>
    public async Task WarningsAsync(IReadOnlyList<string> warnings)
    {
        Console.EndProgress(keep: false);
        foreach (var warning in warnings)
        {
            await Console.Error.WriteLineAsync($"offline-export: warning: {warning}").ConfigureAwait(false);
        }
    }
}
