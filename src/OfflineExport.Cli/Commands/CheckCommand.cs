using System.CommandLine;
using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary><c>check DIR [--read-data]</c>: proves a backup folder without the source disks.</summary>
public static class CheckCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var folder = new Argument<string>("DIR") { Description = "The backup folder" };
        var readData = new Option<bool>("--read-data") { Description = "Also read every point file whole and compare its SHA-256 with the one recorded when it was written" };
        var json = CommonOptions.Json();

        var command = new Command("check", """
            Check a backup folder without its source disks: every point's file is present, of its recorded size,
            linked to its backing point as the manifest says (never outside the folder), and passes qemu-img check;
            with --read-data its SHA-256 is also the one recorded when it was written. Exit 0 when healthy, 11 when
            a point is damaged, with one line per damaged point naming the later points it takes down. Changes nothing.

            Examples:
              offline-export check /backups/web1
              offline-export check /backups/web1 --read-data || mail -s "backup folder damaged" root
            """)
        {
            folder, readData, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new CheckArguments(parse.GetRequiredValue(folder), parse.GetValue(readData), parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Checks and prints what was found; exit 11 when a point is damaged.</summary>
    public static async Task<int> RunAsync(CheckArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var progress = context.Progress(arguments.Json);
        var result = await new FolderCheck(context.Options).RunAsync(new FolderCheckRequest { Folder = arguments.Folder, ReadData = arguments.ReadData }, progress, cancellationToken).ConfigureAwait(false);
        progress?.Finish();
        var code = result.Healthy ? ExitCodes.Success : ExitCodes.DamagedPoint;
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(result)).ConfigureAwait(false);
            return code;
        }

        foreach (var damage in result.Damaged)
        {
            await context.ResultAsync(damage.Describe(), asked: true).ConfigureAwait(false);
        }

        await context.ResultAsync(ResultText.Describe(result), asked: !result.Healthy).ConfigureAwait(false);
        return code;
    }
}
