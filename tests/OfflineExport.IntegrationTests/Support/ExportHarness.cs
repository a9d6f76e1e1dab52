using OfflineExport.Export;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>
/// Runs exports the way every integration test wants them checked: the source files' checksums must
/// not change, and nothing (daemon, private folder, partial file) may survive the export.
/// </summary>
public static class ExportHarness
{
    /// <summary>Longest any single export in the tests may take before it counts as hung.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    /// <summary>Exports and checks invariants; <paramref name="sourceFiles"/> are the chain's files.</summary>
    public static Task<ExportResult> ExportAsync(TestWorkspace workspace, ExportRequest request, params string[] sourceFiles) =>
        ExportWithAsync(workspace, workspace.Options, request, sourceFiles);

    /// <summary>Like <see cref="ExportAsync"/>, with the given options.</summary>
    public static async Task<ExportResult> ExportWithAsync(TestWorkspace workspace, ExportOptions options, ExportRequest request, params string[] sourceFiles)
    {
        var before = QemuTestTools.Sha256All(sourceFiles);
        using var cts = new CancellationTokenSource(Deadline);
        try
        {
            return await new ExportSession(options).RunAsync(request, progress: null, cts.Token);
        }
        finally
        {
            Assert.Equal(before, QemuTestTools.Sha256All(sourceFiles));
            workspace.AssertNothingLeftBehind();
        }
    }

    /// <summary>Runs an export that must fail; returns the exception after checking nothing changed or survived.</summary>
    public static Task<TException> ExportFailsAsync<TException>(TestWorkspace workspace, ExportRequest request, params string[] sourceFiles)
        where TException : Exception =>
        ExportFailsWithAsync<TException>(workspace, workspace.Options, request, sourceFiles);

    /// <summary>Like <see cref="ExportFailsAsync{TException}"/>, with the given options.</summary>
    public static async Task<TException> ExportFailsWithAsync<TException>(TestWorkspace workspace, ExportOptions options, ExportRequest request, params string[] sourceFiles)
        where TException : Exception
    {
        var outputExisted = File.Exists(request.Output);
        var outputBefore = outputExisted ? QemuTestTools.Sha256(request.Output) : null;
        var exception = await Assert.ThrowsAsync<TException>(() => ExportWithAsync(workspace, options, request, sourceFiles));
        if (outputExisted)
        {
            Assert.Equal(outputBefore, QemuTestTools.Sha256(request.Output));
        }
        else
        {
            Assert.False(File.Exists(request.Output), "a failed export left OUTPUT behind");
        }

        return exception;
    }
}
