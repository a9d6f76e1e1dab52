using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace OfflineExport.IO;

/// <summary>Streams a file through SHA-256 in 1 MiB reads: memory stays bounded whatever the file's size.</summary>
public static class FileChecksum
{
    private const int ChunkSize = 1 << 20;

    /// <summary>
    /// The digest of the regular file <paramref name="path"/> (never through a final symlink, never waiting on a
    /// pipe put in its place); <paramref name="read"/> is told the bytes of each read, for progress.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read, or is not a regular file.</exception>
    public static async Task<FileDigest> ComputeAsync(string path, CancellationToken cancellationToken, Action<long>? read = null)
    {
        using var handle = RegularFileHandle.OpenForReading(path);
        return await ComputeAsync(handle, cancellationToken, read).ConfigureAwait(false);
    }

    /// <summary>The digest of the open file <paramref name="handle"/>, from its first byte to its end (its position is not used).</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static async Task<FileDigest> ComputeAsync(SafeFileHandle handle, CancellationToken cancellationToken, Action<long>? read = null)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            int count;
            while ((count = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, ChunkSize), total, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, count);
                total += count;
                read?.Invoke(count);
            }

            return new FileDigest(Convert.ToHexStringLower(hash.GetHashAndReset()), total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
