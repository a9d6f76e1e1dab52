using OfflineExport.Backup;

namespace OfflineExport.Tests.Backup;

public sealed class RetentionPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 1, 30, 0, TimeSpan.Zero); // a Sunday

    /// <summary>One point a night at 01:30 UTC for <paramref name="nights"/> nights, numbered from 0.</summary>
    private static IEnumerable<(int, DateTimeOffset)> Nightly(int nights) => Enumerable.Range(0, nights).Select(n => (n, Start.AddDays(n)));

    private static IReadOnlyList<int> Kept(RetentionPolicy policy, IEnumerable<(int, DateTimeOffset)> points) =>
        policy.Keep(points, TimeZoneInfo.Utc).Keys.Order().ToList();

    [Fact]
    public void Keep_last_keeps_the_newest_points()
    {
        Assert.Equal([7, 8, 9], Kept(new RetentionPolicy { Last = 3 }, Nightly(10)));
    }

    [Fact]
    public void Keep_daily_keeps_the_newest_point_of_each_day()
    {
        // Two runs on the 10th night: only the later one counts for that day.
        var points = Nightly(10).Append((10, Start.AddDays(9).AddHours(12)));

        Assert.Equal([8, 10], Kept(new RetentionPolicy { Daily = 2 }, points));
    }

    [Fact]
    public void Keep_weekly_counts_iso_weeks_that_have_points()
    {
        // Nov 1 2026 is a Sunday (ISO week 44); Nov 2-8 is week 45, Nov 9-15 week 46, Nov 16-22 week 47.
        var kept = Kept(new RetentionPolicy { Weekly = 3 }, Nightly(20));

        Assert.Equal([7, 14, 19], kept);
    }

    [Fact]
    public void Keep_monthly_and_yearly_keep_the_newest_point_of_each_period()
    {
        var points = new[] { (0, new DateTimeOffset(2025, 12, 31, 23, 0, 0, TimeSpan.Zero)), (1, new DateTimeOffset(2026, 1, 15, 1, 0, 0, TimeSpan.Zero)), (2, new DateTimeOffset(2026, 1, 20, 1, 0, 0, TimeSpan.Zero)), (3, new DateTimeOffset(2026, 2, 1, 1, 0, 0, TimeSpan.Zero)) };

        Assert.Equal([2, 3], Kept(new RetentionPolicy { Monthly = 2 }, points));
        Assert.Equal([0, 3], Kept(new RetentionPolicy { Yearly = 5 }, points));
    }

    [Fact]
    public void Rules_combine_and_each_kept_point_says_which_rules_keep_it()
    {
        var kept = new RetentionPolicy { Last = 2, Weekly = 2 }.Keep(Nightly(20), TimeZoneInfo.Utc);

        Assert.Equal([14, 18, 19], kept.Keys.Order());
        Assert.Equal(["last", "weekly"], kept[19]);
        Assert.Equal(["last"], kept[18]);
        Assert.Equal(["weekly"], kept[14]);
    }

    [Fact]
    public void Days_are_those_of_the_given_time_zone()
    {
        // 23:30 and 00:30 UTC fall on two UTC days, but on one day at UTC+3 (02:30 and 03:30).
        var points = new[] { (0, new DateTimeOffset(2026, 11, 1, 23, 30, 0, TimeSpan.Zero)), (1, new DateTimeOffset(2026, 11, 2, 0, 30, 0, TimeSpan.Zero)) };
        var plus3 = TimeZoneInfo.CreateCustomTimeZone("plus3", TimeSpan.FromHours(3), "plus3", "plus3");
        var daily = new RetentionPolicy { Daily = 5 };

        Assert.Equal([0, 1], daily.Keep(points, TimeZoneInfo.Utc).Keys.Order());
        Assert.Equal([1], daily.Keep(points, plus3).Keys.Order());
    }

    [Fact]
    public void With_any_rule_the_newest_point_is_kept()
    {
        foreach (var policy in new[] { new RetentionPolicy { Last = 1 }, new RetentionPolicy { Daily = 1 }, new RetentionPolicy { Weekly = 1 }, new RetentionPolicy { Monthly = 1 }, new RetentionPolicy { Yearly = 1 } })
        {
            Assert.Contains(29, policy.Keep(Nightly(30), TimeZoneInfo.Utc).Keys);
        }
    }

    [Theory]
    [InlineData(null, "forget needs at least one rule")]
    [InlineData(0, "--keep-daily must be at least 1")]
    public void A_policy_without_a_rule_or_with_a_rule_below_one_is_refused(int? daily, string expected)
    {
        var ex = Assert.Throws<OfflineExportException>(() => new RetentionPolicy { Daily = daily }.Check());

        Assert.Equal(ErrorKind.InvalidRequest, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
