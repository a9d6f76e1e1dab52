namespace OfflineExport.Processes;

/// <summary>Quotes words for display as a POSIX shell command line (logs only; never executed).</summary>
public static class ShellQuoting
{
    /// <summary>Returns <paramref name="word"/> unchanged when safe, otherwise single-quoted.</summary>
    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)))
        {
            return word;
        }

        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
