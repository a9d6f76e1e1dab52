using System.Collections.Concurrent;
using OfflineExport.Export;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>
/// Daemon:CacheDirect: by default a large output is written with O_DIRECT (the source stays in the page
/// cache), with a fallback where the output's file system refuses O_DIRECT; "all" has no fallback.
/// </summary>
public sealed class OutputCacheTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Theory]
    [InlineData(CacheDirectScope.Output, 0UL, false, true)]
    [InlineData(CacheDirectScope.Output, 256UL << 20, false, false)] // 4 MiB to write: below the minimum
    [InlineData(CacheDirectScope.None, 0UL, false, false)]
    [InlineData(CacheDirectScope.All, 256UL << 20, true, true)]
    public async Task Scope_and_size_decide_which_files_are_opened_with_O_DIRECT(CacheDirectScope scope, ulong outputMinimum, bool sourceDirect, bool outputDirect)
    {
        var (image, request) = await IncrementalAsync(_ws["out"]);
        var log = new ConcurrentQueue<string>();
        var options = _ws.Options with { CacheDirect = scope, OutputDirectMinimum = outputMinimum, Log = log.Enqueue };

        var result = await ExportHarness.ExportWithAsync(_ws, options, request, image, _ws["full.qcow2"]);

        Assert.True(result.Verified);
        var fileNodes = LoggedQmp.BlockdevAdds(log).Where(n => (string?)n["driver"] == "file").ToList();
        // The source chain's layer (the previous backup is opened read-only too, for the untracked-change check).
        var sourceNode = Assert.Single(fileNodes, n => (bool)n["read-only"]! && (string?)n["node-name"] == "layer0-file");
        var outputNode = fileNodes.First(n => (string?)n["node-name"] == "target-file");
        Assert.Equal(sourceDirect, LoggedQmp.CacheOption(sourceNode, "direct"));
        Assert.Equal(outputDirect, LoggedQmp.CacheOption(outputNode, "direct"));
    }

    [Fact]
    public async Task Output_on_a_file_system_without_O_DIRECT_falls_back_to_the_page_cache()
    {
        var folder = Directory.CreateDirectory(_ws["ramfs"]).FullName;
        await RunProgramAsync("mount", "-t", "ramfs", "ramfs", folder); // ramfs has no O_DIRECT
        try
        {
            var (image, request) = await IncrementalAsync(folder);
            var log = new ConcurrentQueue<string>();

            var result = await ExportHarness.ExportWithAsync(_ws, _ws.Options with { OutputDirectMinimum = 0, Log = log.Enqueue }, request, image, _ws["full.qcow2"]);

            Assert.True(result.Verified);
            Assert.Contains(log, l => l.StartsWith("output: O_DIRECT refused", StringComparison.Ordinal));
            Assert.Equal(0, await CompareAsync(request.Output, image));
            Assert.Equal(0, await CheckAsync(request.Output));
        }
        finally
        {
            await RunProgramAsync("umount", folder);
        }
    }

    [Fact]
    public async Task All_on_a_file_system_without_O_DIRECT_is_an_output_problem_with_advice()
    {
        var folder = Directory.CreateDirectory(_ws["ramfs"]).FullName;
        await RunProgramAsync("mount", "-t", "ramfs", "ramfs", folder);
        try
        {
            var (image, request) = await IncrementalAsync(folder);

            var error = await ExportHarness.ExportFailsWithAsync<OfflineExportException>(_ws, _ws.Options with { CacheDirect = CacheDirectScope.All }, request, image, _ws["full.qcow2"]);

            Assert.Equal(ErrorKind.OutputProblem, error.Kind);
            Assert.Contains("Daemon:CacheDirect=all needs O_DIRECT on the output's file system", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        }
        finally
        {
            await RunProgramAsync("umount", folder);
        }
    }

    /// <summary>A disk with a full backup in the workspace and a checkpoint with dirty data; the request writes into <paramref name="outputFolder"/>.</summary>
    private async Task<(string Image, ExportRequest Request)> IncrementalAsync(string outputFolder)
    {
        Directory.CreateDirectory(outputFolder);
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "32M");
        await IoAsync(image, "write -P 0x31 0 8M");
        await ExportHarness.ExportAsync(_ws, new ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);
        await AddBitmapAsync(image, "ck");
        await IoAsync(image, "write -P 0x32 1M 3M", "write -z 16M 1M");
        return (image, new ExportRequest
        {
            Image = image, Output = Path.Combine(outputFolder, "inc.qcow2"), Bitmaps = ["ck"], Backing = _ws["full.qcow2"], Verify = true,
        });
    }
}
