using System.CommandLine;
using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary><c>checkpoints DIR [--remove-all]</c>: the checkpoints in the folder's disks, and their removal when it is retired.</summary>
public static class CheckpointsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var folder = new Argument<string>("DIR") { Description = "The backup folder" };
        var removeAll = new Option<bool>("--remove-all") { Description = "Remove every checkpoint this folder made from every layer of its disks (the disks must not be in use); the next backup into the folder is then a full one" };
        var json = CommonOptions.Json();

        var command = new Command("checkpoints", """
            Show the checkpoints (persistent dirty bitmaps) in every layer of the folder's disks and whose they are:
            this folder's (which point started it, the current one the next incremental starts from, a crashed run's
            leftover), another backup folder's, or not this tool's (libvirt's). With --remove-all, remove this
            folder's from every layer, as when the folder is retired; the others are never touched.

            Examples:
              offline-export checkpoints /backups/web1
              offline-export checkpoints /backups/web1 --remove-all && rm -r /backups/web1
            """)
        {
            folder, removeAll, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new CheckpointsArguments(parse.GetRequiredValue(folder), parse.GetValue(removeAll), parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Lists, or removes and lists what was removed.</summary>
    public static async Task<int> RunAsync(CheckpointsArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var inventory = new CheckpointInventory(context.Options);
        if (arguments.RemoveAll)
        {
            var (removed, warnings) = await inventory.RemoveAllAsync(arguments.Folder, cancellationToken).ConfigureAwait(false);
            if (arguments.Json)
            {
                await JsonOutput.WriteAsync(context.Console.Out, ResultJson.OfRemoval(OfflineExport.IO.FolderPath.Full(arguments.Folder), removed, warnings)).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            foreach (var name in removed)
            {
                await context.ResultAsync($"removed checkpoint {name}").ConfigureAwait(false);
            }

            await context.ResultAsync($"removed {removed.Count} checkpoint(s) of {OfflineExport.IO.FolderPath.Full(arguments.Folder)}; its next backup is a full one").ConfigureAwait(false);
            await context.WarningsAsync(warnings).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var disks = await inventory.ListAsync(arguments.Folder, cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(OfflineExport.IO.FolderPath.Full(arguments.Folder), disks)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        foreach (var disk in disks)
        {
            await context.Console.Out.WriteLineAsync(ResultText.Heading(disk)).ConfigureAwait(false);
            foreach (var entry in disk.Checkpoints)
            {
                await context.Console.Out.WriteLineAsync("  " + ResultText.Describe(entry, disk.Image)).ConfigureAwait(false);
            }
        }

        return ExitCodes.Success;
    }
}
