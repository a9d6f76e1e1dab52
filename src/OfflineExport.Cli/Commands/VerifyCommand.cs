using System.CommandLine;
using OfflineExport.Export;

namespace OfflineExport.Cli.Commands;

/// <summary><c>verify IMAGE OUTPUT</c>: qemu-img compare, with exit 0 identical and 1 different.</summary>
public static class VerifyCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var image = new Argument<string>("IMAGE") { Description = "The disk (its top image)" };
        var output = new Argument<string>("OUTPUT") { Description = "The backup (a point's file, or a restored image)" };
        var json = CommonOptions.Json();
        var format = CommonOptions.Format("IMAGE");

        var command = new Command("verify", """
            Prove a backup: compare what the guest would see in OUTPUT (with its backing chain) and in IMAGE.
            Exit 0: identical; 1: different; other codes: the comparison could not run.

            Examples:
              offline-export verify vm/vda.qcow2 /backups/web1/vda.3.inc.qcow2 --format qcow2
              offline-export verify vm/vdb.img /backups/web1/vdb.0.full.qcow2 --format raw
            """)
        {
            image, output, format, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new VerifyArguments(parse.GetRequiredValue(image), parse.GetRequiredValue(output), parse.GetValue(json), parse.GetValue(format)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Compares and prints the verdict; exit 0 when identical, 1 when different.</summary>
    public static async Task<int> RunAsync(VerifyArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var progress = context.Progress(arguments.Json, Path.GetFileName(arguments.Output));
        var result = await new ImageVerifier(context.Options).VerifyAsync(arguments.Image, arguments.Output, arguments.Format, progress, cancellationToken).ConfigureAwait(false);
        progress?.Finish();
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(Path.GetFullPath(arguments.Image), Path.GetFullPath(arguments.Output), result.Identical, result.Message)).ConfigureAwait(false);
        }
        else
        {
            await context.ResultAsync((result.Identical ? "identical: " : "different: ") + result.Message, asked: !result.Identical).ConfigureAwait(false);
        }

        return ExitCodes.FromComparison(result.Identical);
    }
}
