namespace OfflineExport.Nbd;

/// <summary>One <see cref="SplicePipe"/> per copy worker, all able to carry the same payload size.</summary>
public sealed class SplicePipeSet : IDisposable
{
    private readonly List<SplicePipe> _pipes;

    private SplicePipeSet(List<SplicePipe> pipes) => _pipes = pipes;

    /// <summary>The pipes, one per worker.</summary>
    public IReadOnlyList<SplicePipe> Pipes => _pipes;

    /// <summary>Largest payload every pipe can carry (may be below the size asked for).</summary>
    public int MaxPayload => _pipes.Min(p => p.MaxPayload);

    /// <summary>
    /// Creates <paramref name="count"/> pipes for payloads of <paramref name="payload"/> bytes; null (and
    /// the reason) when the system cannot provide them, in which case the copy goes through memory.
    /// </summary>
    public static SplicePipeSet? TryCreate(int count, int payload, out string? reason)
    {
        var pipes = new List<SplicePipe>(count);
        reason = null;
        for (var i = 0; i < count; i++)
        {
            var pipe = SplicePipe.TryCreate(payload, out reason);
            if (pipe is null)
            {
                pipes.ForEach(p => p.Dispose());
                return null;
            }

            pipes.Add(pipe);
        }

        return new SplicePipeSet(pipes);
    }

    /// <inheritdoc/>
    public void Dispose() => _pipes.ForEach(p => p.Dispose());
}
