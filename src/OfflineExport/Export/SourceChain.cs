using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>
/// A source disk's chain, read the one way export and backup both need: the chain from qemu-img, then the
/// kernel's answer whether a writer (a running VM) holds it, while <c>qemu-img check</c> of every layer runs
/// beside everything that follows (the top's beside qemu-img info itself, when it will surely be checked). Disposing it stops checks no longer wanted, so no qemu-img outlives the run.
/// </summary>
public sealed class SourceChain : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopChecks;

    private SourceChain(IReadOnlyList<ImageInfo> layers, Task layerChecks, CancellationTokenSource stopChecks)
    {
        Layers = layers;
        LayerChecks = layerChecks;
        _stopChecks = stopChecks;
    }

    /// <summary>The chain, top first.</summary>
    public IReadOnlyList<ImageInfo> Layers { get; }

    /// <summary>The check of every layer; awaited before anything is written (fails with InvalidImage).</summary>
    public Task LayerChecks { get; }

    /// <summary>
    /// Reads <paramref name="image"/>'s chain (top as <paramref name="format"/>; null: probed), starts the
    /// layer checks unless <paramref name="checkLayers"/> is false, and refuses an image a writer holds.
    /// </summary>
    /// <exception cref="OfflineExportException">The image cannot be read (InvalidImage) or is in use (ImageInUse).</exception>
    public static async Task<SourceChain> ReadAsync(QemuImg qemuImg, string image, string? format, bool checkLayers, CancellationToken cancellationToken)
    {
        var stopChecks = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var topAhead = checkLayers ? Export.LayerChecks.StartTopAhead(qemuImg, image, format, stopChecks.Token) : null;
        IReadOnlyList<ImageInfo> chain;
        try
        {
            chain = await ChainReader.ReadAsync(qemuImg, image, format, "image", cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await new SourceChain([], topAhead ?? Task.CompletedTask, stopChecks).DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var source = new SourceChain(chain, checkLayers ? Export.LayerChecks.RunAsync(qemuImg, chain, topAhead, stopChecks.Token) : Task.CompletedTask, stopChecks);
        try
        {
            // Before bitmaps are judged: a running VM marks its bitmaps in-use, and "shut it down" is the useful message.
            QemuImageLocks.RefuseIfHeldForWriting(image);
            return source;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the layer checks if they still run and waits for them; their outcome, if not awaited before, no longer matters.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!LayerChecks.IsCompleted)
        {
            await _stopChecks.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await LayerChecks.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Reported where it was awaited, if it still mattered.
        }

        _stopChecks.Dispose();
    }
}
