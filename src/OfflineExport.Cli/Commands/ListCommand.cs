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
        var path = Path.GetFullPath(arguments.Folder);
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
            var table = new Table().Title(Markup.Escape($"{disk.Name}  ({disk.Source}, {Units.Bytes(disk.VirtualSize)}, current checkpoint: {disk.CurrentCheckpoint ?? "none"})"));
            table.AddColumns("point", "level", "file", "on", "since", "copied", "zeroed", "taken (UTC)", "verified", "state");
            foreach (var point in disk.Points)
            {
                table.AddRow(
                    point.Number.ToString(CultureInfo.InvariantCulture),
                    point.Level.ToString().ToLowerInvariant(),
                    Markup.Escape(point.File),
                    point.BackingPoint?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    Markup.Escape(point.CheckpointsUsed.Count == 0 ? "-" : string.Join(" + ", point.CheckpointsUsed)),
                    Units.Bytes(point.BytesCopied),
                    Units.Bytes(point.BytesZeroed),
                    point.EndTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    point.Verified ? "yes" : "no",
                    State(damage, disk.Name, point.Number));
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

    /// <summary>"ok", "DAMAGED", or "needs N" for a point whose chain runs through a damaged point N.</summary>
    private static string State(IReadOnlyList<PointDamage> damage, string disk, int number)
    {
        if (damage.Any(d => d.Disk == disk && d.Point == number))
        {
            return "DAMAGED";
        }

        var needed = damage.Where(d => d.Disk == disk && d.TakesDown.Contains(number)).Select(d => d.Point).ToList();
        return needed.Count == 0 ? "ok" : $"needs {string.Join(", ", needed)}";
    }
}
