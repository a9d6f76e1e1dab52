using System.CommandLine;
using OfflineExport.Backup;

namespace OfflineExport.Cli.Commands;

/// <summary><c>backup IMAGE... --target DIR</c>: a new point for every disk, with checkpoint rotation.</summary>
public static class BackupCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var images = new Argument<string[]>("IMAGE") { Description = "Top images of the stopped VM's disks (a disk's name is its file name without extension)", Arity = ArgumentArity.ZeroOrMore };
        var domainXml = new Option<string?>("--domain-xml") { Description = "Take the disks from a libvirt domain XML (virsh dumpxml of the shut-off domain); cdroms and non-file disks are skipped", HelpName = "FILE" };
        var domain = new Option<string?>("--domain", "-d") { Description = "Back up the shut-off libvirt domain NAME: its file-backed disks, named by target dev (vda, vdb); its checkpoints are registered with libvirt so its next live incremental continues from this backup", HelpName = "NAME" };
        var connect = new Option<string?>("--connect", "-c") { Description = "The libvirt URI for --domain (default: the configuration's Libvirt:Uri, qemu:///system)", HelpName = "URI" };
        var shutdown = new Option<bool>("--shutdown") { Description = "With --domain: ask a running domain to shut down (virsh shutdown) and wait for 'shut off' before the backup" };
        var shutdownTimeout = CommonOptions.Count("--shutdown-timeout", null, "How long --shutdown waits for 'shut off' (default: 300)", "SECONDS");
        var start = new Option<bool>("--start") { Description = "With --domain: start the domain after the backup, whatever its outcome (the result says so)" };
        var seeds = new Option<string[]>("--seed") { Description = "Start disk DISK from FILE, a full backup libvirt's push backup wrote at --since-checkpoint NAME: FILE becomes point 0 and this run's point the incremental since NAME, verified (repeatable)", HelpName = "DISK=FILE" };
        var sinceCheckpoint = new Option<string?>("--since-checkpoint") { Description = "The checkpoint the --seed files were taken at (libvirt's checkpoint of that backup)", HelpName = "NAME" };
        var target = new Option<string>("--target", "-t") { Description = "The backup folder (created if missing)", Required = true, HelpName = "DIR" };
        var level = CommonOptions.Choice(
            "--level",
            "-l",
            "auto: full the first time, then incremental; full: new chain; inc: since the last point; diff: since the chain's full point",
            [("auto", BackupLevel.Auto), ("full", BackupLevel.Full), ("inc", BackupLevel.Inc), ("diff", BackupLevel.Diff)],
            BackupLevel.Auto);
        var verify = new Option<bool>("--verify") { Description = "Prove every new point with qemu-img compare before it counts" };
        var keep = CommonOptions.Count("--keep-checkpoints", null, "Keep only the newest N checkpoints this folder created in each disk (plus the current chain's first)");
        var fullEvery = CommonOptions.Count("--full-every", null, "With --level auto: a full point once a disk's chain holds N points, so no chain grows without bound");
        var format = CommonOptions.Format("the IMAGE arguments (--domain-xml disks use their <driver type>); a backup folder keeps each disk's first format");
        var json = CommonOptions.Json();
        var dryRun = CommonOptions.DryRun();

        var command = new Command("backup", """
            Back up stopped disks into a backup folder of numbered points (0, 1, 2 … per disk).

            Each run starts a new checkpoint (a persistent dirty bitmap, offline-export-<folder tag>-<UTC time>) on every disk,
            exports the window since the previous one, and records the point in DIR/manifest.json. All disks or none:
            if one disk fails, no point is recorded and the new checkpoints are removed.

            Examples:
              offline-export backup vm/vda.qcow2 vm/vdb.qcow2 --target /backups/web1 --verify
              offline-export backup vm/vda.qcow2 --target /backups/web1 --level diff --keep-checkpoints 7
              offline-export backup vm/vda.qcow2 --target /backups/web1 --full-every 14   # then: forget --keep-daily 14
              offline-export backup --domain web1 --target /backups/web1
              offline-export backup --domain web1 --shutdown --start --target /backups/web1   # nightly, from cron
              virsh dumpxml web1 > web1.xml && offline-export backup --domain-xml web1.xml --target /backups/web1
            """)
        {
            images, format, domain, connect, shutdown, shutdownTimeout, start, seeds, sinceCheckpoint, domainXml, target, level, fullEvery, verify, keep, json, dryRun,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new BackupArguments(
                new BackupRequest
                {
                    Images = parse.GetValue(images) ?? [],
                    Formats = (parse.GetValue(images) ?? []).Select(_ => parse.GetValue(format)).ToList(),
                    DomainXml = parse.GetValue(domainXml),
                    Domain = parse.GetValue(domain),
                    Connect = parse.GetValue(connect),
                    Shutdown = parse.GetValue(shutdown),
                    ShutdownTimeout = TimeSpan.FromSeconds(parse.GetValue(shutdownTimeout) ?? 300),
                    Start = parse.GetValue(start),
                    Seeds = SeedsOf(parse.GetValue(seeds) ?? []),
                    SinceCheckpoint = parse.GetValue(sinceCheckpoint),
                    Target = parse.GetRequiredValue(target),
                    Level = parse.GetValue(level) ?? BackupLevel.Auto,
                    Verify = parse.GetValue(verify),
                    KeepCheckpoints = parse.GetValue(keep),
                    FullEvery = parse.GetValue(fullEvery),
                    DryRun = parse.GetValue(dryRun),
                },
                parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>The --seed DISK=FILE pairs, by disk.</summary>
    private static Dictionary<string, string> SeedsOf(IEnumerable<string> values)
    {
        var seeds = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == value.Length - 1 || !seeds.TryAdd(value[..equals], value[(equals + 1)..]))
            {
                throw new OfflineExportException(ErrorKind.InvalidRequest, $"--seed takes DISK=FILE, once per disk (e.g. --seed vda=/backups/live/vda.full.qcow2), not '{value}'");
            }
        }

        return seeds;
    }

    /// <summary>Runs the backup and prints a line per disk, the removed checkpoints, notes and warnings.</summary>
    public static async Task<int> RunAsync(BackupArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var progress = context.Progress(arguments.Json);
        var result = await new BackupRunner(context.Options).RunAsync(arguments.Request, progress, cancellationToken).ConfigureAwait(false);
        progress?.Finish();
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(result)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        foreach (var disk in result.Disks)
        {
            await context.ResultAsync(ResultText.Describe(disk), asked: disk.Point is null).ConfigureAwait(false);
        }

        foreach (var removed in result.RemovedCheckpoints)
        {
            await context.ResultAsync($"removed old checkpoint {removed}").ConfigureAwait(false);
        }

        // Skipped cdroms are notes here (silent with --quiet), skipped data disks warnings; all are warnings in --json.
        await context.NotesAsync([.. result.Skipped, .. result.Notes]).ConfigureAwait(false);
        await context.WarningsAsync([.. result.SkippedData, .. result.Warnings]).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
