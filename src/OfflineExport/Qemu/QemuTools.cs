namespace OfflineExport.Qemu;

/// <summary>Where the qemu programs are. Bare names are looked up on PATH.</summary>
/// <param name="QemuImg">qemu-img (Debian package qemu-utils).</param>
/// <param name="StorageDaemon">qemu-storage-daemon (Debian package qemu-system-common).</param>
public sealed record QemuTools(string QemuImg = "qemu-img", string StorageDaemon = "qemu-storage-daemon")
{
    /// <summary>The Debian package that provides qemu-img.</summary>
    public const string QemuImgPackage = "qemu-utils";

    /// <summary>The Debian package that provides qemu-storage-daemon.</summary>
    public const string StorageDaemonPackage = "qemu-system-common";

    /// <summary>Resolves both programs to executable paths, or throws an <see cref="ErrorKind.ToolMissing"/> error.</summary>
    public QemuTools Resolve() => new(
        ResolveOne(QemuImg, QemuImgPackage),
        ResolveOne(StorageDaemon, StorageDaemonPackage));

    /// <summary>Finds <paramref name="program"/> (a path, or a name on PATH) and checks it is executable.</summary>
    public static string ResolveOne(string program, string package)
    {
        if (program.Contains('/'))
        {
            var full = Path.GetFullPath(program);
            return IsExecutable(full) ? full : throw OfflineExportException.ToolMissing(program, package, File.Exists(full) ? "is not executable" : "does not exist");
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var folder in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, program);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        throw OfflineExportException.ToolMissing(program, package, "was not found on PATH");
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        var mode = File.GetUnixFileMode(path);
        return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }
}
