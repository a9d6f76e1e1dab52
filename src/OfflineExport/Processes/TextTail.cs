namespace OfflineExport.Processes;

/// <summary>Helpers to cut a child's error output down to what fits in one message line.</summary>
public static class TextTail
{
    /// <summary>The last <paramref name="count"/> non-empty lines of <paramref name="text"/>, joined by " | ".</summary>
    public static string LastLines(string text, int count)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", lines.TakeLast(count));
    }
}
