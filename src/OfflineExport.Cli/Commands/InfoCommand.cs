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

        Render(context.Console.Spectre(context.Console.Out), report, context.Verbose);
        return ExitCodes.Success;
    }

    private static string LayerName(int index) => index == 0 ? "top" : index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Render(IAnsiConsole console, ImageReport report, bool verbose)
    {
        // 80 columns: the layers with how many checkpoints each holds, then each checkpoint once with
        // its layers; a format note and a shared reason are told once, under their table.
        console.WriteLine(report.Image);
        var layers = Tables.Plain("layer", "file", "format", "size", "allocated", "checkpoints");
        layers.Columns[1].NoWrap(); // a path to copy, whole
        for (var i = 0; i < report.Layers.Count; i++)
        {
            var layer = report.Layers[i];
            layers.AddRow(
                LayerName(i),
                Markup.Escape(layer.Filename),
                Markup.Escape(layer.Format),
                Units.Bytes(layer.VirtualSize),
                layer.ActualSize is { } actual ? Units.Bytes(actual) : "?",
                layer.Bitmaps.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        console.Write(layers);
        if (report.FormatOrigin == FormatOrigin.Detected)
        {
            console.WriteLine($"format of the top layer: {ImageFormats.Describe(report.Layers[0].Format, report.FormatOrigin)}");
        }

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

        // A reason many checkpoints share (one broken layer fails them all) is told once, under the table.
        var reasons = report.Bitmaps.Where(b => !b.Valid && b.Reason is not null).Select(b => b.Reason!).Distinct(StringComparer.Ordinal).ToList();
        // The granularity and flags of each copy with --verbose: a disabled copy is the reason's business.
        var verdicts = Tables.Plain("checkpoint", "usable", "in layers");
        if (verbose)
        {
            Tables.AddColumns(verdicts, "granularity, flags");
        }

        verdicts.Columns[0].NoWrap(); // a name to copy into --bitmap, whole
        foreach (var verdict in report.Bitmaps)
        {
            var usable = verdict.Valid ? "[green]yes[/]" : verdict.Reason is null ? "[red]no[/]" : $"[red]no[/] ({reasons.IndexOf(verdict.Reason) + 1})";
            var holders = Enumerable.Range(0, report.Layers.Count).Where(i => report.Layers[i].Bitmaps.Any(b => b.Name == verdict.Name)).ToList();
            List<string> row = [Markup.Escape(verdict.Name), usable, string.Join(", ", holders.Select(LayerName))];
            if (verbose)
            {
                var copies = holders.Select(i => report.Layers[i].Bitmaps.First(b => b.Name == verdict.Name))
                    .Select(b => $"{Units.Bytes(b.Granularity)}, {(b.Flags.Count == 0 ? "disabled" : string.Join(",", b.Flags))}")
                    .Distinct(StringComparer.Ordinal);
                row.Add(Markup.Escape(string.Join("; ", copies)));
            }

            verdicts.AddRow([.. row]);
        }

        console.Write(verdicts);
        for (var i = 0; i < reasons.Count; i++)
        {
            // Unwrapped: a message an operator may search for or paste.
            console.Profile.Out.Writer.WriteLine($"({i + 1}) {reasons[i]}");
        }
    }
}
