using System.CommandLine;
using OfflineExport.Cli.Commands;

namespace OfflineExport.Cli;

/// <summary>The command line's tree: the root, its common options and every verb, with help that lists the exit codes.</summary>
public static class CommandTree
{
    /// <summary>Builds the tree; the verbs run through <paramref name="runner"/>.</summary>
    public static RootCommand Build(CommandRunner runner)
    {
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
        return root;
    }
}
