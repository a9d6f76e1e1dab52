namespace OfflineExport.IO;

/// <summary>
/// "Is this path one of those files?", answered by identity (device + inode after symlinks) and by the
/// resolved spelling, so a symlinked folder, a symlinked file or a hard link cannot pass for another file.
/// </summary>
public static class SameFile
{
    /// <summary>The first of <paramref name="candidates"/> that is the file <paramref name="path"/> names, or null.</summary>
    public static string? FindIn(string path, IEnumerable<string> candidates)
    {
        var full = Path.GetFullPath(path);
        var identity = TryIdentity(full);
        foreach (var candidate in candidates)
        {
            var other = Path.GetFullPath(candidate);
            if (string.Equals(other, full, StringComparison.Ordinal)
                || (identity is not null && TryIdentity(other) is { } otherIdentity && otherIdentity.IsSameFileAs(identity)))
            {
                return candidate;
            }
        }

        return null;
    }

    private static FileIdentity? TryIdentity(string path)
    {
        try
        {
            return FileIdentity.Of(path);
        }
        catch (IOException)
        {
            // Cannot be examined: compared by spelling only.
            return null;
        }
    }
}
