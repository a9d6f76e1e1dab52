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

    /// <inheritdoc/>
    public string PhysicalPath => path;

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
