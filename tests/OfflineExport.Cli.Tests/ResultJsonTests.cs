using System.Text.Json.Nodes;
using OfflineExport.Export;

namespace OfflineExport.Cli.Tests;

/// <summary>The shape of --json results: keys, their names and how enums and times are written.</summary>
public sealed class ResultJsonTests
{
    [Fact]
    public async Task An_export_result_has_camel_case_keys_and_lower_case_enums()
    {
        var result = new ExportResult
        {
            Image = "/vm/vda.qcow2",
            Output = "/b/vda.1.qcow2",
            Format = "qcow2",
            FormatOrigin = FormatOrigin.Stated,
            Mode = ExportMode.Incremental,
            Bitmaps = ["ck1"],
            Backing = "vda.0.qcow2",
            VirtualSize = 1 << 30,
            PlannedDataBytes = 4096,
            PlannedZeroBytes = 8192,
            BytesCopied = 4096,
            BytesZeroed = 8192,
            Requests = 2,
            Duration = TimeSpan.FromMilliseconds(1234.5678),
            Verified = true,
        };
        var writer = new StringWriter();

        await JsonOutput.WriteAsync(writer, ResultJson.Of(result));
        var json = JsonNode.Parse(writer.ToString())!.AsObject();

        Assert.Equal(
            ["image", "output", "format", "formatOrigin", "mode", "bitmaps", "backing", "virtualSize", "plannedBytes", "plannedDataBytes", "plannedZeroBytes", "bytesCopied", "bytesZeroed", "requests", "startTime", "durationSeconds", "verified", "dryRun", "notes"],
            json.Select(p => p.Key));
        Assert.Equal("incremental", (string?)json["mode"]);
        Assert.Equal("stated", (string?)json["formatOrigin"]);
        Assert.Equal(12288UL, (ulong)json["plannedBytes"]!);
        Assert.Equal(1.235, (double)json["durationSeconds"]!);
    }

    [Fact]
    public async Task Json_output_writes_plus_signs_and_apostrophes_as_themselves()
    {
        var writer = new StringWriter();

        await JsonOutput.WriteAsync(writer, new System.Text.Json.Nodes.JsonObject { ["t"] = "2026-12-04T18:23:54+00:00 it's \"q\"" });

        Assert.Contains("\"2026-12-04T18:23:54+00:00 it's \\\"q\\\"\"", writer.ToString(), StringComparison.Ordinal);
    }
}
