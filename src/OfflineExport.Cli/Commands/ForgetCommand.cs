using System.CommandLine;
using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary><c>forget DIR --keep-…</c>: retention that merges, so every kept point restores as before.</summary>
public static class ForgetCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var folder = new Argument<string>("DIR") { Description = "The backup folder" };
        var last = CommonOptions.Count("--keep-last", null, "Keep the N newest points");
        var daily = CommonOptions.Count("--keep-daily", null, "Keep the newest point of each of the N latest days that have one");
        var weekly = CommonOptions.Count("--keep-weekly", null, "Keep the newest point of each of the N latest (ISO) weeks that have one");
        var monthly = CommonOptions.Count("--keep-monthly", null, "Keep the newest point of each of the N latest months that have one");
        var yearly = CommonOptions.Count("--keep-yearly", null, "Keep the newest point of each of the N latest years that have one");
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Say what would be kept, forgotten and merged; change nothing" };
        var json = CommonOptions.Json();

        var command = new Command("forget", """
            Forget the points the --keep rules do not keep (restic's meanings, by the points' local times; rules
            combine, and the newest point is always kept). A kept point that needs a forgotten one takes in its data
            first (a merged copy, proved identical with qemu-img compare), so every kept point restores exactly as
            before and keeps its number. The checkpoints the forgotten points started are removed from the disks.
            A killed forget is finished or undone by the next command on the folder.

            Examples:
              offline-export forget /backups/web1 --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --dry-run
              offline-export forget /backups/web1 --keep-last 14
            """)
        {
            folder, last, daily, weekly, monthly, yearly, dryRun, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new ForgetArguments(
                parse.GetRequiredValue(folder),
                new RetentionPolicy { Last = parse.GetValue(last), Daily = parse.GetValue(daily), Weekly = parse.GetValue(weekly), Monthly = parse.GetValue(monthly), Yearly = parse.GetValue(yearly) },
                parse.GetValue(dryRun),
                parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Forgets and prints a line per disk, the removed checkpoints, notes and warnings.</summary>
    public static async Task<int> RunAsync(ForgetArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var progress = context.Progress(arguments.Json);
        var result = await new ForgetRunner(context.Options).RunAsync(
            new ForgetRequest { Folder = arguments.Folder, Policy = arguments.Policy, DryRun = arguments.DryRun },
            progress,
            cancellationToken).ConfigureAwait(false);
        progress?.Finish();
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(result)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        await context.NotesAsync(result.Notes).ConfigureAwait(false);
        foreach (var disk in result.Disks)
        {
            await context.ResultAsync(ResultText.Describe(disk, result.DryRun), asked: result.DryRun).ConfigureAwait(false);
        }

        foreach (var removed in result.RemovedCheckpoints)
        {
            await context.ResultAsync($"removed checkpoint {removed}").ConfigureAwait(false);
        }

        await context.ResultAsync(ResultText.Describe(result), asked: result.DryRun).ConfigureAwait(false);
        await context.WarningsAsync(result.Warnings).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
