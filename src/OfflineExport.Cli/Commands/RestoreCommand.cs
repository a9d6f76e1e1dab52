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
        var output = new Argument<string?>("OUTPUT") { Description = "The standalone qcow2 to write (one disk)", Arity = ArgumentArity.ZeroOrOne };
        var domainOut = new Option<string?>("--domain-out") { Description = "Restore every disk of a backup --domain run into DIR2 (DISK.qcow2 each) with DIR2/domain.xml pointing at them: the latest run, or with --point N the run that made point N of the first disk (of --disk NAME; --disk alone: that disk's latest run)", HelpName = "DIR2" };
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
              offline-export restore /backups/web1 --domain-out /var/lib/libvirt/images/web1-restored && virsh define /var/lib/libvirt/images/web1-restored/domain.xml
            """)
        {
            folder, output, domainOut, point, disk, force, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new RestoreArguments(
                parse.GetRequiredValue(folder),
                parse.GetValue(output),
                parse.GetValue(domainOut),
                parse.GetValue(point),
                parse.GetValue(disk),
                parse.GetValue(force),
                parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Restores one disk (OUTPUT) or a whole domain (--domain-out) and prints what was written.</summary>
    public static async Task<int> RunAsync(RestoreArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        if ((arguments.Output is null) == (arguments.DomainOut is null))
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "give either OUTPUT (one disk) or --domain-out DIR2 (every disk of a domain's run)");
        }

        if (arguments.DomainOut is { } domainOut)
        {
            var shown = context.Progress(arguments.Json);
            var run = await new DomainRestore(context.Options).RunAsync(
                new DomainRestoreRequest { Folder = arguments.Folder, OutputFolder = domainOut, Point = arguments.Point, PointOf = arguments.Disk, Force = arguments.Force },
                shown,
                cancellationToken).ConfigureAwait(false);
            shown?.Finish();
            if (arguments.Json)
            {
                await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(run)).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            foreach (var disk in run.Disks)
            {
                await context.ResultAsync(Describe(disk)).ConfigureAwait(false);
            }

            await context.ResultAsync($"domain XML -> {run.DomainXml} (virsh define {run.DomainXml} boots it; it keeps the domain's name and uuid)").ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var progress = context.Progress(arguments.Json, arguments.Disk ?? string.Empty);
        var result = await new RestoreSession(context.Options).RunAsync(
            new RestoreRequest { Folder = arguments.Folder, Output = arguments.Output!, Point = arguments.Point, Disk = arguments.Disk, Force = arguments.Force },
            progress,
            cancellationToken).ConfigureAwait(false);
        progress?.Finish();
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(result)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        await context.ResultAsync(Describe(result)).ConfigureAwait(false);
        await context.NotesAsync(result.Notes).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private static string Describe(RestoreResult result)
    {
        var checksums = result.FilesChecksummed switch
        {
            0 => "no recorded checksums (the points predate them)",
            var n when n == result.ChainLength => "every file matched its recorded SHA-256",
            var n => $"{n} of {result.ChainLength} files matched their recorded SHA-256 (the others predate checksums)",
        };
        return $"restored {result.Disk} point {result.Point.Number} ({result.Point.Level.ToString().ToLowerInvariant()}, {result.ChainLength} file(s) in its chain) -> {result.Output} in {Units.Duration(result.Duration)}; verified: {checksums}, and qemu-img compare found the output identical to the chain";
    }
}
