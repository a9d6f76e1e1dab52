namespace OfflineExport.Export;

/// <summary>The absolute paths of one export.</summary>
/// <param name="Image">The source image.</param>
/// <param name="Output">The final backup path.</param>
/// <param name="Backing">The previous backup, or null.</param>
public sealed record ExportPaths(string Image, string Output, string? Backing)
{
    /// <summary>The folder OUTPUT goes into.</summary>
    public string OutputFolder => Path.GetDirectoryName(Output)!;

    /// <summary>The backing file name as OUTPUT records it: relative to OUTPUT's folder, so a backup folder can move.</summary>
    public string? BackingAsRecorded => Backing is null ? null : Path.GetRelativePath(OutputFolder, Backing);

    /// <summary>Resolves a request's paths against the current folder.</summary>
    public static ExportPaths From(ExportRequest request) => new(
        Path.GetFullPath(request.Image),
        Path.GetFullPath(request.Output),
        request.Backing is null ? null : Path.GetFullPath(request.Backing));
}
