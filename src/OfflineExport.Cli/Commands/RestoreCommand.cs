using System.CommandLine;
using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary><c>restore DIR OUTPUT</c>: one disk as it was at one point, as a standalone qcow2.</summary>
public static class RestoreCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var folder = new Argument<string>("DIR") { Description = "The backup folder" };
        var output = new Argument<string>("OUTPUT") { Description = "The standalone qcow2 to write" };
        var point = CommonOptions.Count("--point", "-p", "Point number (default: the latest)");
        var disk = new Option<string?>("--disk", "-d") { Description = "Disk name (default: the folder's only disk)", HelpName = "NAME" };
        var force = new Option<bool>("--force", "-f") { Description = "Replace OUTPUT if it exists" };
        var json = CommonOptions.Json();

        var command = new Command("restore", """
            Restore a disk as it was at a point: a standalone qcow2 (no backing file), checked with qemu-img compare
            against the point's chain before it is put in place.

            Examples:
              offline-export restore /backups/web1 /vm/vda.qcow2 --disk vda
              offline-export restore /backups/web1 /tmp/vda-at-3.qcow2 --disk vda --point 3
            """)
        {
            folder, output, point, disk, force, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new RestoreArguments(
                new RestoreRequest
                {
                    Folder = parse.GetRequiredValue(folder),
                    Output = parse.GetRequiredValue(output),
                    Point = parse.GetValue(point),
                    Disk = parse.GetValue(disk),
                    Force = parse.GetValue(force),
                },
                parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Restores and prints what was written.</summary>
    public static async Task<int> RunAsync(RestoreArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var result = await new RestoreSession(context.Options).RunAsync(arguments.Request, cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(result)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        await context.Console.Out.WriteLineAsync(
            $"restored {result.Disk} point {result.Point.Number} ({result.Point.Level.ToString().ToLowerInvariant()}, {result.ChainLength} file(s) in its chain) -> {result.Output} in {Units.Duration(result.Duration)}; verified identical with qemu-img compare").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
