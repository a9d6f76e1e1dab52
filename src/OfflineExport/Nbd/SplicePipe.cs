namespace OfflineExport.Nbd;

/// <summary>
/// A kernel pipe that carries one READ payload from the source socket to the target socket without
/// passing through this process's memory (splice(2)). One per copy worker. The pipe is sized to twice
/// the payload: the kernel counts pipe capacity in page slots, and socket data may arrive in pieces
/// smaller than a page, so a pipe exactly as big as the payload could fill up before the payload does.
/// </summary>
public sealed class SplicePipe : IDisposable
{
    private SplicePipe(int readFd, int writeFd, int capacity)
    {
        ReadFd = readFd;
        WriteFd = writeFd;
        Capacity = capacity;
    }

    /// <summary>The pipe's size in bytes as granted by the kernel.</summary>
    public int Capacity { get; }

    /// <summary>Largest payload one transfer may carry (half the capacity).</summary>
    public int MaxPayload => Capacity / 2;

    /// <summary>Bytes currently in the pipe.</summary>
    internal int Bytes { get; set; }

    internal int ReadFd { get; }

    internal int WriteFd { get; }

    /// <summary>
    /// Creates a pipe for payloads of up to <paramref name="payload"/> bytes, or a smaller one when the
    /// system limit (/proc/sys/fs/pipe-max-size for unprivileged users) is lower; null with the reason
    /// when pipes cannot be made at all.
    /// </summary>
    public static SplicePipe? TryCreate(int payload, out string? reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            reason = "splice(2) is Linux only";
            return null;
        }

        if (!LinuxSplice.TryCreatePipe(out var readFd, out var writeFd, out var errno))
        {
            reason = $"pipe2 failed (errno {errno})";
            return null;
        }

        var granted = LinuxSplice.Resize(writeFd, checked(payload * 2));
        if (granted == -LinuxSplice.NotPermitted)
        {
            granted = LinuxSplice.Resize(writeFd, SystemMaximum());
        }

        if (granted < 2 * 4096)
        {
            LinuxSplice.Close(readFd);
            LinuxSplice.Close(writeFd);
            reason = $"cannot size a pipe (errno {-granted})";
            return null;
        }

        reason = null;
        return new SplicePipe(readFd, writeFd, granted);
    }

    /// <summary>Empties the pipe into <paramref name="destination"/> (its first <see cref="Bytes"/> bytes).</summary>
    internal void DrainInto(Span<byte> destination)
    {
        var done = 0;
        while (done < Bytes)
        {
            var read = LinuxSplice.Read(ReadFd, destination[done..Bytes]);
            if (read <= 0)
            {
                throw new IOException($"cannot read back the splice pipe (errno {-read})");
            }

            done += (int)read;
        }

        Bytes = 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        LinuxSplice.Close(ReadFd);
        LinuxSplice.Close(WriteFd);
    }

    private static int SystemMaximum()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/fs/pipe-max-size").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return 1 << 20;
        }
    }
}
