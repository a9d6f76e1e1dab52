using System.Globalization;

namespace OfflineExport.Backup;

/// <summary>
/// Which points <c>forget</c> keeps, with restic's meanings: <c>--keep-last N</c> the N newest points;
/// <c>--keep-daily N</c> the newest point of each of the N latest days that have one (and so on for
/// weeks, ISO weeks; months; years). Rules combine: a point is kept when any rule keeps it. Days are
/// the local time zone's, as an operator reads them. With any rule, the newest point is always kept.
/// </summary>
public sealed record RetentionPolicy
{
    /// <summary>Keep the N newest points.</summary>
    public int? Last { get; init; }

    /// <summary>Keep the newest point of each of the N latest days that have one.</summary>
    public int? Daily { get; init; }

    /// <summary>Keep the newest point of each of the N latest ISO weeks that have one.</summary>
    public int? Weekly { get; init; }

    /// <summary>Keep the newest point of each of the N latest months that have one.</summary>
    public int? Monthly { get; init; }

    /// <summary>Keep the newest point of each of the N latest years that have one.</summary>
    public int? Yearly { get; init; }

    /// <summary>Refuses a policy without a rule or with a rule below 1.</summary>
    /// <exception cref="OfflineExportException">InvalidRequest.</exception>
    public void Check()
    {
        var rules = Rules().ToList();
        if (rules.Count == 0)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, "forget needs at least one rule: --keep-last, --keep-daily, --keep-weekly, --keep-monthly or --keep-yearly");
        }

        if (rules.FirstOrDefault(r => r.Count < 1) is { Name: not null } bad)
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"--keep-{bad.Name} must be at least 1");
        }
    }

    /// <summary>The points to keep, each with the rules that keep it ("last", "daily" …); the others are forgotten.</summary>
    /// <param name="points">The points (number and time), in any order.</param>
    /// <param name="zone">The time zone whose days, weeks, months and years count.</param>
    public IReadOnlyDictionary<int, IReadOnlyList<string>> Keep(IEnumerable<(int Number, DateTimeOffset Time)> points, TimeZoneInfo zone)
    {
        var rules = Rules().Select(r => (r.Name, r.Bucket, Left: r.Count, Last: (string?)null)).ToArray();
        var kept = new Dictionary<int, IReadOnlyList<string>>();
        // Newest first; a later point number breaks a tie in time.
        foreach (var (number, time) in points.OrderByDescending(p => p.Time).ThenByDescending(p => p.Number))
        {
            var reasons = new List<string>();
            for (var i = 0; i < rules.Length; i++)
            {
                var bucket = rules[i].Bucket(TimeZoneInfo.ConvertTime(time, zone), number);
                if (rules[i].Left > 0 && bucket != rules[i].Last)
                {
                    rules[i].Left--;
                    rules[i].Last = bucket;
                    reasons.Add(rules[i].Name);
                }
            }

            if (reasons.Count > 0)
            {
                kept[number] = reasons;
            }
        }

        return kept;
    }

    /// <summary>The rules given, each with its name and how it buckets a point (local time, number).</summary>
    private IEnumerable<(string Name, int Count, Func<DateTimeOffset, int, string> Bucket)> Rules()
    {
        if (Last is { } last)
        {
            yield return ("last", last, (_, number) => number.ToString(CultureInfo.InvariantCulture));
        }

        if (Daily is { } daily)
        {
            yield return ("daily", daily, (time, _) => time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        if (Weekly is { } weekly)
        {
            yield return ("weekly", weekly, (time, _) => $"{ISOWeek.GetYear(time.DateTime)}-W{ISOWeek.GetWeekOfYear(time.DateTime)}");
        }

        if (Monthly is { } monthly)
        {
            yield return ("monthly", monthly, (time, _) => time.ToString("yyyy-MM", CultureInfo.InvariantCulture));
        }

        if (Yearly is { } yearly)
        {
            yield return ("yearly", yearly, (time, _) => time.ToString("yyyy", CultureInfo.InvariantCulture));
        }
    }
}
