using System.CommandLine;
using OfflineExport.Export;
using Spectre.Console;

namespace OfflineExport.Cli.Commands;

/// <summary><c>info IMAGE</c>: the chain, its checkpoints, and which checkpoints an incremental export can use.</summary>
public static class InfoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CommandRunner runner)
    {
        var image = new Argument<string>("IMAGE") { Description = "Top (active) image of the disk" };
        var format = CommonOptions.Format("IMAGE");
        var json = CommonOptions.Json();

        var command = new Command("info", """
            Show a disk's backing chain (file, format, virtual and allocated size), the checkpoints (dirty bitmaps)
            of each layer, and for each checkpoint name whether an incremental export can use it, and why not.
            Reads only; works on the image of a running VM too (and says so).

            Examples:
              offline-export info vm/vda.qcow2 --format qcow2
              offline-export info vm/vda.qcow2 --json | jq '.bitmaps[] | select(.valid)'
            """)
        {
            image, format, json,
        };

        command.SetAction((parse, _) => runner.RunAsync(parse, parse.GetValue(json), (context, cancellationToken) => RunAsync(
            new InfoArguments(parse.GetRequiredValue(image), parse.GetValue(format), parse.GetValue(json)),
            context,
            cancellationToken)));
        return command;
    }

    /// <summary>Reads the disk's chain and checkpoints and prints the report.</summary>
    public static async Task<int> RunAsync(InfoArguments arguments, VerbContext context, CancellationToken cancellationToken)
    {
        var report = await new ImageInspector(context.Options).InspectAsync(arguments.Image, arguments.Format, cancellationToken).ConfigureAwait(false);
        if (arguments.Json)
        {
            await JsonOutput.WriteAsync(context.Console.Out, ResultJson.Of(report)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        Render(context.Console.Spectre(context.Console.Out), report);
        return ExitCodes.Success;
    }

    private static void Render(IAnsiConsole console, ImageReport report)
    {
        var layers = new Table().Title(Markup.Escape(report.Image));
        layers.AddColumns("#", "file", "format", "virtual size", "allocated", "bitmaps (granularity, flags)");
        for (var i = 0; i < report.Layers.Count; i++)
        {
            var layer = report.Layers[i];
            var bitmaps = layer.Bitmaps.Count == 0
                ? "-"
                : string.Join("\n", layer.Bitmaps.Select(b => $"{b.Name} ({Units.Bytes(b.Granularity)}, {(b.Flags.Count == 0 ? "disabled" : string.Join(",", b.Flags))})"));
            layers.AddRow(
                i == 0 ? "top" : i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(layer.Filename),
                Markup.Escape(i == 0 ? ImageFormats.Describe(layer.Format, report.FormatOrigin) : layer.Format),
                Units.Bytes(layer.VirtualSize),
                layer.ActualSize is { } actual ? Units.Bytes(actual) : "?",
                Markup.Escape(bitmaps));
        }

        console.Write(layers);
        if (report.InUse is not null)
        {
            console.MarkupLine("[red]in use:[/] " + Markup.Escape(report.InUse));
        }

        if (report.ChainProblem is not null)
        {
            console.MarkupLine("[red]cannot export:[/] " + Markup.Escape(report.ChainProblem));
        }

        if (report.Bitmaps.Count == 0)
        {
            console.WriteLine("No checkpoints: only a full export is possible.");
            return;
        }

        var verdicts = new Table();
        verdicts.AddColumns("checkpoint", "usable for an incremental", "reason");
        foreach (var verdict in report.Bitmaps)
        {
            verdicts.AddRow(Markup.Escape(verdict.Name), verdict.Valid ? "[green]yes[/]" : "[red]no[/]", Markup.Escape(verdict.Reason ?? string.Empty));
        }

        console.Write(verdicts);
    }
}
