namespace OfflineExport.IO;

/// <summary>The type of a file system entry, as <c>statx(2)</c> reports it.</summary>
public enum FileKind
{
    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A folder.</summary>
    Directory,

    /// <summary>A block device (an LVM volume, a partition).</summary>
    BlockDevice,

    /// <summary>A character device.</summary>
    CharacterDevice,

    /// <summary>A named pipe.</summary>
    Fifo,

    /// <summary>A unix socket.</summary>
    Socket,

    /// <summary>A symbolic link (only from <see cref="FileIdentity.OfLink"/>).</summary>
    Symlink,

    /// <summary>Anything else.</summary>
    Other,
}
