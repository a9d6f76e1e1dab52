namespace OfflineExport.IO;

/// <summary>A kind of file in an error message's words ("a named pipe", "a folder", …).</summary>
public static class FileKindText
{
    /// <summary>The kind with its article, as a message says what a name turned out to be.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.Symlink => "a symbolic link",
        FileKind.BlockDevice => "a block device",
        FileKind.CharacterDevice => "a character device",
        FileKind.Fifo => "a named pipe",
        FileKind.Socket => "a socket",
        _ => "a special file",
    };
}
