using System.CommandLine;
using OfflineExport.Export;

namespace OfflineExport.Cli.Commands;

/// <summary><c>export IMAGE OUTPUT</c>: one full, incremental or differential export of one disk.</summary>
public static class ExportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var image = new Argument<string>("IMAGE") { Description = "Top (active) image of the stopped VM's disk: qcow2 with any backing chain, or raw (full export only)" };
        var output = new Argument<string>("OUTPUT") { Description = "The backup to write: a new qcow2" };
        var bitmaps = new Option<string[]>("--bitmap", "-b")
        {
            Description = "Checkpoint (persistent dirty bitmap) to export the changes of; repeat for a differential (union). Without it: full export",
            HelpName = "NAME",
        };
        var backing = new Option<string?>("--backing") { Description = "Previous backup, recorded as OUTPUT's backing file (relative to OUTPUT's folder); required with --bitmap", HelpName = "PREVIOUS" };
        var force = new Option<bool>("--force", "-f") { Description = "Replace OUTPUT if it exists" };
        var verify = new Option<bool>("--verify") { Description = "Check OUTPUT against IMAGE with qemu-img compare before putting it in place" };
        var format = CommonOptions.Format("IMAGE (the top of the chain; every backing file keeps the format its parent records)");
        var json = CommonOptions.Json();
        var dryRun = CommonOptions.DryRun();

        var command = new Command("export", """
            Export a stopped VM's disk into a qcow2 backup.

            Without --bitmap: a full, standalone copy of all allocated data.
            With --bitmap NAME: only the clusters dirty in that checkpoint across the backing chain,
            as an overlay on --backing PREVIOUS, so that 'qemu-img compare OUTPUT IMAGE' finds them identical.

            Examples:
              offline-export export vm/vda.qcow2 backups/vda.0.qcow2 --format qcow2 --verify
              offline-export export vm/vdb.raw backups/vdb.0.qcow2 --format raw
              offline-export export vm/vda.qcow2 backups/vda.1.qcow2 --bitmap ckpt1 --backing backups/vda.0.qcow2
              offline-export export vm/vda.qcow2 backups/vda.1.qcow2 --bitmap ckpt1 --backing backups/vda.0.qcow2 --dry-run
            """)
        {
            image, output, format, bitmaps, backing, force, verify, json, dryRun,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new ExportArguments(
                new ExportRequest
                {
                    Image = parse.GetRequiredValue(image),
                    Format = parse.GetValue(format),
                    Output = parse.GetRequiredValue(output),
                    Bitmaps = parse.GetValue(bitmaps) ?? [],
                    Backing = parse.GetValue(backing),
                    Force = parse.GetValue(force),
                    Verify = parse.GetValue(verify),
                    DryRun = parse.GetValue(dryRun),
                },
                parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Runs the export and prints its result.</summary>
    public static async Task<int> RunAsync(ExportArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var progress = context.Progress(arguments.Json, Path.GetFileName(arguments.Request.Image));
        var result = await new ExportSession(context.Options).RunAsync(arguments.Request, progress, cancellationToken).ConfigureAwait(false);
        progress?.Finish();
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(result)).ConfigureAwait(false);
        }
        else
        {
            await context.ResultAsync(ResultText.Describe(result), asked: result.DryRun).ConfigureAwait(false);
            await context.NotesAsync(result.Notes).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }
}
