using OfflineExport.Cli.Usage;

namespace OfflineExport.Cli.Tests.Usage;

/// <summary>Which known word a typo is taken for, and when none is close enough to suggest.</summary>
public sealed class SuggestionsTests
{
    private static readonly string[] Verbs = ["info", "export", "backup", "list", "restore", "check", "forget", "checkpoints", "verify"];

    [Theory]
    [InlineData("bakup", "backup")]
    [InlineData("backpu", "backup")] // two neighbours swapped: one edit
    [InlineData("lst", "list")]
    [InlineData("restor", "restore")]
    [InlineData("chekpoints", "checkpoints")]
    [InlineData("verfy", "verify")]
    public void A_typo_of_a_verb_suggests_it(string typed, string expected) =>
        Assert.Equal(expected, Suggestions.Closest(typed, Verbs));

    [Theory]
    [InlineData("--taget", "--target")]
    [InlineData("--keep-checkpoint", "--keep-checkpoints")]
    [InlineData("--dryrun", "--dry-run")]
    [InlineData("--verfiy", "--verify")]
    [InlineData("--shutdown-t", "--shutdown-timeout")] // a prefix of only one option, though nearer --shutdown
    [InlineData("--keep", "--keep-checkpoints")]
    public void A_typo_of_an_option_suggests_it(string typed, string expected) =>
        Assert.Equal(expected, Suggestions.Closest(typed, ["--target", "--keep-checkpoints", "--dry-run", "--verify", "--shutdown", "--shutdown-timeout", "--start"]));

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("xy")]
    [InlineData("copy")]
    public void Nothing_is_suggested_for_a_word_far_from_every_verb(string typed) =>
        Assert.Null(Suggestions.Closest(typed, Verbs));

    [Fact]
    public void A_prefix_of_several_options_suggests_none_of_them() =>
        Assert.Null(Suggestions.Closest("--sh", ["--shutdown", "--shutdown-timeout"]));

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "abc", 0)]
    [InlineData("abc", "acb", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    public void Distance_counts_edits_with_a_swap_as_one(string a, string b, int expected) =>
        Assert.Equal(expected, Suggestions.Distance(a, b));
}
