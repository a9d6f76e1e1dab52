namespace OfflineExport.IO;

/// <summary>A folder argument as every comparison needs it: absolute, without a trailing separator.</summary>
public static class FolderPath
{
    /// <summary>
    /// <paramref name="folder"/> made absolute, "bk/" and "bk" alike: a point's backing file is proved to be
    /// in its folder by comparing folder names, and "bk/" would be another name than "bk".
    /// </summary>
    public static string Full(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
}
