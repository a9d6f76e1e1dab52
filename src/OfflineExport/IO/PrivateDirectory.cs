namespace OfflineExport.IO;

/// <summary>
/// A temporary folder only the current user can enter (mode 0700), for sockets. Disposing removes it
/// with everything inside.
/// </summary>
public sealed class PrivateDirectory : IDisposable
{
    /// <summary>How every such folder's name starts.</summary>
    public const string Prefix = "offline-export-";

    private PrivateDirectory(string path) => Path = path;

    /// <summary>The folder's absolute path.</summary>
    public string Path { get; }

    /// <summary>Creates a new private folder under <paramref name="parent"/> (the system temp folder when null).</summary>
    public static PrivateDirectory Create(string? parent)
    {
        string path;
        if (parent is null)
        {
            path = Directory.CreateTempSubdirectory(Prefix).FullName;
        }
        else
        {
            if (!Directory.Exists(parent))
            {
                throw new DirectoryNotFoundException($"work directory {parent} does not exist");
            }

            path = System.IO.Path.Combine(System.IO.Path.GetFullPath(parent), Prefix + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Set explicitly: the umask must not widen it.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new PrivateDirectory(path);
    }

    /// <summary>Removes the folder and its contents; never throws.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
