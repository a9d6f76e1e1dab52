using System.CommandLine;
using System.Globalization;
using OfflineExport.Backup;
using Spectre.Console;

namespace OfflineExport.Cli.Commands;

/// <summary><c>list DIR</c>: the points of a backup folder, as a table or JSON.</summary>
public static class ListCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var folder = new Argument<string>("DIR") { Description = "The backup folder" };
        var json = CommonOptions.Json();

        var command = new Command("list", """
            List the disks and points of a backup folder.

            Examples:
              offline-export list /backups/web1
              offline-export list /backups/web1 --json | jq '.disks[].points[-1].file'
            """)
        {
            folder, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, _) => RunAsync(
            new ListArguments(parse.GetRequiredValue(folder), parse.GetValue(json)),
            context)));
        return command;
    }

    /// <summary>Prints the folder's disks and points.</summary>
    public static async Task<int> RunAsync(ListArguments arguments, VerbContext context)
    {
        var path = OfflineExport.IO.FolderPath.Full(arguments.Folder);
        var manifest = ManifestStore.LoadExisting(path);
        // Headers only (no qemu, no data read): a missing, truncated or mislinked file shows here; 'check' does the rest.
        var damage = PointFiles.Damage(path, manifest);
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(path, manifest, damage)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var console = context.Console.Spectre(context.Console.Out);
        console.WriteLine($"Backup folder {path}");
        foreach (var disk in manifest.Disks)
        {
            console.WriteLine();
            console.WriteLine($"{disk.Name}: {disk.Source}, {Units.Bytes(disk.VirtualSize)}");
            if (context.Verbose)
            {
                console.WriteLine($"  current checkpoint: {disk.CurrentCheckpoint ?? "none"}");
            }

            // Short enough for 80 columns: what a point is based on says what it holds changes since (an
            // incremental: the point before; a differential: the full point); --verbose adds its file and checkpoints.
            var table = Tables.Plain("point", "level", "based on", "copied", "taken (UTC)", "state");
            if (context.Verbose)
            {
                Tables.AddColumns(table, "file", "zeroed", "checkpoints used");
            }

            foreach (var point in disk.Points)
            {
                List<string> row =
                [
                    point.Number.ToString(CultureInfo.InvariantCulture),
                    point.Level.ToString().ToLowerInvariant(),
                    point.BackingPoint is { } backing ? $"point {backing.ToString(CultureInfo.InvariantCulture)}" : "-",
                    Units.Bytes(point.BytesCopied),
                    point.EndTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    State(damage, disk.Name, point),
                ];
                if (context.Verbose)
                {
                    row.Add(Markup.Escape(point.File));
                    row.Add(Units.Bytes(point.BytesZeroed));
                    row.Add(Markup.Escape(point.CheckpointsUsed.Count == 0 ? "-" : string.Join(" + ", point.CheckpointsUsed)));
                }

                table.AddRow([.. row]);
            }

            console.Write(table);
        }

        foreach (var found in damage)
        {
            console.WriteLine(found.Describe());
        }

        if (damage.Count > 0)
        {
            console.WriteLine($"run 'offline-export check {path}' for the full check");
        }

        return ExitCodes.Success;
    }

    /// <summary>"verified" (proven identical when taken), "ok", "DAMAGED", or "needs N" for a point whose chain runs through a damaged point N.</summary>
    private static string State(IReadOnlyList<PointDamage> damage, string disk, PointRecord point)
    {
        var number = point.Number;
        if (damage.Any(d => d.Disk == disk && d.Point == number))
        {
            return "DAMAGED";
        }

        var needed = damage.Where(d => d.Disk == disk && d.TakesDown.Contains(number)).Select(d => d.Point).ToList();
        return needed.Count > 0 ? $"needs {string.Join(", ", needed)}" : point.Verified ? "verified" : "ok";
    }
}
