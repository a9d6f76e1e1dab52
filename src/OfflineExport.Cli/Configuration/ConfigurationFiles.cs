using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;
using OfflineExport.IO;

namespace OfflineExport.Cli.Configuration;

/// <summary>
/// Gives the JSON configuration reader its files by absolute path, each opened with
/// <see cref="RegularFileHandle"/>: a name swapped for a named pipe or a device after it was checked is
/// refused when it is opened, instead of read (a pipe would wait for ever, and a blocked read ignores Ctrl-C).
/// </summary>
public sealed class ConfigurationFiles : IFileProvider
{
    /// <summary>The one provider every configuration file is read through.</summary>
    public static readonly ConfigurationFiles Instance = new();

    private ConfigurationFiles()
    {
    }

    /// <summary>The file at the absolute path <paramref name="subpath"/>, or a missing one.</summary>
    public IFileInfo GetFileInfo(string subpath) =>
        FileIdentity.Of(subpath) is null ? new NotFoundFileInfo(subpath) : new ConfigurationFile(subpath);

    /// <summary>Never used: configuration files are named, not listed.</summary>
    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    /// <summary>Never used: configuration is read once per run.</summary>
    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;
}
