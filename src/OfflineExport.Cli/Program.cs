using System.CommandLine;
using OfflineExport.Cli;
using OfflineExport.Cli.Commands;

using var interruption = new Interruption();
var runner = new CommandRunner(CliConsole.System, interruption);

var root = new RootCommand("""
    offline-export: incremental, image-level backups of the qcow2 disks of stopped QEMU/KVM VMs.

    It reads the persistent dirty bitmaps (checkpoints) of a disk's backing chain, serves the chain
    read-only from qemu-storage-daemon over NBD, and copies only the changed clusters into a qcow2
    overlay on the previous backup, which qemu-img compare can prove identical to the disk.
    """)
{
    CommonOptions.Verbose,
    CommonOptions.Quiet,
    CommonOptions.Config,
    CommonOptions.Set,
    InfoCommand.Create(runner),
    ExportCommand.Create(runner),
    BackupCommand.Create(runner),
    ListCommand.Create(runner),
    RestoreCommand.Create(runner),
    CheckCommand.Create(runner),
    ForgetCommand.Create(runner),
    CheckpointsCommand.Create(runner),
    VerifyCommand.Create(runner),
};

HelpWithExitCodes.Install(root);
var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    // Usage errors exit 2 (System.CommandLine would exit 1, which our tool reserves for "different").
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"offline-export: error: {error.Message}");
    }

    Console.Error.WriteLine($"offline-export: see '{string.Join(' ', parse.CommandResult.Command.Name == root.Name ? "offline-export" : "offline-export " + parse.CommandResult.Command.Name)} --help'");
    return ExitCodes.Usage;
}

var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await parse.InvokeAsync(configuration, interruption.Token);
