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

        var command = new Command("verify", """
            Prove a backup: compare what the guest would see in OUTPUT (with its backing chain) and in IMAGE.
            Exit 0: identical; 1: different; other codes: the comparison could not run.

            Example:
              offline-export verify vm/vda.qcow2 /backups/web1/vda.3.inc.qcow2
            """)
        {
            image, output, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), async cancellationToken =>
        {
            var result = await new ImageVerifier(runner.ExportOptions(parse)).VerifyAsync(parse.GetRequiredValue(image), parse.GetRequiredValue(output), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var full = (Image: Path.GetFullPath(parse.GetRequiredValue(image)), Output: Path.GetFullPath(parse.GetRequiredValue(output)));
                await JsonOutput.WriteAsync(runner.Console.Out, new { image = full.Image, output = full.Output, identical = result.Identical, message = result.Message }).ConfigureAwait(false);
            }
            else
            {
                await runner.Console.Out.WriteLineAsync((result.Identical ? "identical: " : "different: ") + result.Message).ConfigureAwait(false);
            }

            return ExitCodes.FromComparison(result.Identical);
        }));
        return command;
    }
}
