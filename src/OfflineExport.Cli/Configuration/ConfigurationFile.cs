using Microsoft.Extensions.FileProviders;
using OfflineExport.IO;

namespace OfflineExport.Cli.Configuration;

/// <summary>One configuration file of <see cref="ConfigurationFiles"/>, opened only when it is read (symlinks followed, since /etc is often managed that way).</summary>
public sealed class ConfigurationFile(string path) : IFileInfo
{
    /// <inheritdoc/>
    public bool Exists => true;

    /// <inheritdoc/>
    public long Length => -1;

    /// <summary>
    /// Null on purpose: the JSON reader opens a file with a physical path itself, by name (and would wait on a
    /// pipe); without one it asks <see cref="CreateReadStream"/>. Where a value came from is told by the source's path.
    /// </summary>
    public string? PhysicalPath => null;

    /// <inheritdoc/>
    public string Name => Path.GetFileName(path);

    /// <inheritdoc/>
    public DateTimeOffset LastModified => File.GetLastWriteTimeUtc(path);

    /// <inheritdoc/>
    public bool IsDirectory => false;

    /// <inheritdoc/>
    /// <exception cref="IOException">The name now leads to a pipe, a device, a folder, or nothing readable.</exception>
    public Stream CreateReadStream() => new FileStream(RegularFileHandle.OpenForReading(path, followSymlink: true), FileAccess.Read, 1);
}
