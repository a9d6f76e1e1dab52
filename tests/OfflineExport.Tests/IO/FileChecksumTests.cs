using System.Diagnostics;
using OfflineExport.IO;

namespace OfflineExport.Tests.IO;

/// <summary>A file's checksum by name: the digest of its bytes, and a pipe in its place refused at once, not waited on.</summary>
public sealed class FileChecksumTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oe-sum-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_regular_file_gives_the_sha256_and_size_of_its_bytes()
    {
        var path = Path.Combine(_root, "point");
        await File.WriteAllTextAsync(path, "abc");

        var digest = await FileChecksum.ComputeAsync(path, CancellationToken.None);

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.Sha256);
        Assert.Equal(3, digest.Size);
    }

    [Fact]
    public async Task A_named_pipe_in_the_place_of_the_file_is_refused_at_once()
    {
        var path = Path.Combine(_root, "pending");
        using (var mkfifo = Process.Start("mkfifo", [path]))
        {
            await mkfifo.WaitForExitAsync();
        }

        // An open that waited for a writer would never return: the timeout turns that into a failure.
        var refusal = await Assert.ThrowsAsync<IOException>(() => Task.Run(() => FileChecksum.ComputeAsync(path, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal($"{path} is a named pipe, not a regular file", refusal.Message);
    }
}
