using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OfflineExport.IO;

/// <summary>
/// Copies an open file into a new one: in the kernel where it can (<c>copy_file_range</c>, a reflink on file
/// systems that share extents), else through a bounded buffer.
/// </summary>
public static partial class FileCopy
{
    private const int ChunkSize = 64 << 20;
    private const int BufferSize = 1 << 20;
    private const int Exdev = 18;
    private const int Einval = 22;
    private const int Enosys = 38;
    private const int Eopnotsupp = 95;

    /// <summary>
    /// Writes the whole content of the open file <paramref name="source"/> into the empty open file
    /// <paramref name="target"/>, named <paramref name="name"/> in errors. The caller removes a target it
    /// created when this fails.
    /// </summary>
    /// <exception cref="IOException">The target cannot be written.</exception>
    public static void Into(SafeFileHandle source, SafeFileHandle target, string name)
    {
        var length = RandomAccess.GetLength(source);
        long sourceOffset = 0;
        long targetOffset = 0;
        while (sourceOffset < length)
        {
            var copied = CopyFileRange((int)source.DangerousGetHandle(), ref sourceOffset, (int)target.DangerousGetHandle(), ref targetOffset, (nuint)Math.Min(ChunkSize, length - sourceOffset), 0);
            if (copied > 0)
            {
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (copied < 0 && sourceOffset == 0 && errno is Exdev or Einval or Enosys or Eopnotsupp)
            {
                // A file system (or kernel) that cannot copy in place: the same bytes through user space.
                CopyThroughBuffer(source, target, length);
                return;
            }

            throw new IOException(copied < 0
                ? $"cannot copy into {name}: {Marshal.GetPInvokeErrorMessage(errno)}"
                : $"cannot copy into {name}: the source ended at {sourceOffset} of {length} bytes");
        }
    }

    private static void CopyThroughBuffer(SafeFileHandle source, SafeFileHandle target, long length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            for (long offset = 0; offset < length;)
            {
                var count = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(BufferSize, length - offset)), offset);
                if (count == 0)
                {
                    throw new IOException($"the source ended at {offset} of {length} bytes");
                }

                RandomAccess.Write(target, buffer.AsSpan(0, count), offset);
                offset += count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial nint CopyFileRange(int inputFd, ref long inputOffset, int outputFd, ref long outputOffset, nuint length, uint flags);
}
