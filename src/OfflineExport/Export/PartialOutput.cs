namespace OfflineExport.Export;

/// <summary>
/// An output under its temporary name until it is complete (written, flushed, verified): only
/// <see cref="Publish"/> puts it in place; disposed unpublished, it is deleted. Export and restore both
/// write through one, so an output appears whole or not at all.
/// </summary>
public sealed class PartialOutput : IDisposable
{
    private bool _published;

    private PartialOutput(string output)
    {
        Output = output;
        Path = OutputFile.PartialName(output);
    }

    /// <summary>The final name.</summary>
    public string Output { get; }

    /// <summary>The temporary name it is written under, in the same folder (so the rename is atomic).</summary>
    public string Path { get; }

    /// <summary>A partial file for <paramref name="output"/> (nothing is created yet).</summary>
    public static PartialOutput For(string output) => new(output);

    /// <summary>Syncs the file, renames it to <see cref="Output"/> and syncs the folder.</summary>
    public void Publish(bool overwrite)
    {
        OutputFile.Publish(Path, Output, overwrite);
        _published = true;
    }

    /// <summary>Deletes the partial file unless it was published.</summary>
    public void Dispose()
    {
        if (!_published)
        {
            OutputFile.TryDelete(Path);
        }
    }
}
