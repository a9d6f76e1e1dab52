namespace OfflineExport.Cli.Usage;

/// <summary>The closest known word to a mistyped one ("--taget" → "--target", "bakup" → "backup"), pure.</summary>
public static class Suggestions
{
    /// <summary>
    /// The candidate nearest to <paramref name="typed"/> by edit distance (a swap of two neighbours counts
    /// once), if it is near enough to be a typo: at most 1 edit for words up to 4 letters, 2 up to 8, 3
    /// beyond. The only candidate <paramref name="typed"/> is a prefix of comes first. Null when nothing is close.
    /// </summary>
    public static string? Closest(string typed, IEnumerable<string> candidates)
    {
        var list = candidates.Distinct(StringComparer.Ordinal).ToList();
        var core = typed.TrimStart('-').Length;
        var allowed = core <= 4 ? 1 : core <= 8 ? 2 : 3;
        // A word cut short names what it starts, when it starts only one: "--shutdown-t" is --shutdown-timeout.
        var extending = list.Where(c => core >= 3 && c.StartsWith(typed, StringComparison.Ordinal)).ToList();
        if (extending.Count == 1)
        {
            return extending[0];
        }

        return list
            .Select(c => (Candidate: c, Distance: Distance(typed, c)))
            .Where(c => c.Distance <= allowed)
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .Select(c => c.Candidate)
            .FirstOrDefault();
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
