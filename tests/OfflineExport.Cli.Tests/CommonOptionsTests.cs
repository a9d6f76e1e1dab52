using System.CommandLine;

namespace OfflineExport.Cli.Tests;

/// <summary>Options whose values and errors read as the user types them.</summary>
public sealed class CommonOptionsTests
{
    public enum Speed
    {
        Slow,
        Fast,
    }

    [Theory]
    [InlineData("--speed fast", Speed.Fast)]
    [InlineData("--speed FAST", Speed.Fast)]
    [InlineData("--speed slow", Speed.Slow)]
    [InlineData("", null)]
    public void A_choice_takes_the_words_users_type_and_is_null_when_absent(string line, Speed? expected)
    {
        var option = Choice();

        var parse = new RootCommand { option }.Parse(line);

        Assert.Empty(parse.Errors);
        Assert.Equal(expected, parse.GetValue(option));
    }

    [Fact]
    public void A_wrong_word_names_the_right_ones()
    {
        var parse = new RootCommand { Choice() }.Parse("--speed warp");

        var error = Assert.Single(parse.Errors);
        Assert.Equal("--speed takes one of slow, fast, not 'warp'", error.Message);
    }

    [Fact]
    public void Help_shows_the_words_never_a_dotnet_name()
    {
        var option = Choice();

        Assert.Equal("slow|fast", option.HelpName);
        Assert.EndsWith("(default: fast)", option.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("Fast", option.Description!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--keep 7", 7)]
    [InlineData("--keep 0", 0)]
    [InlineData("", null)]
    public void A_count_is_a_whole_number_or_absent(string line, int? expected)
    {
        var option = CommonOptions.Count("--keep", null, "how many");

        var parse = new RootCommand { option }.Parse(line);

        Assert.Empty(parse.Errors);
        Assert.Equal(expected, parse.GetValue(option));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public void A_count_that_is_no_whole_number_is_a_usage_error_in_plain_words(string value)
    {
        var parse = new RootCommand { CommonOptions.Count("--keep", null, "how many") }.Parse(["--keep", value]);

        var error = Assert.Single(parse.Errors);
        Assert.Equal($"--keep takes a whole number (N), not '{value}'", error.Message);
        Assert.DoesNotContain("Nullable", error.Message, StringComparison.Ordinal);
    }

    private static Option<Speed?> Choice() =>
        CommonOptions.Choice("--speed", "-s", "how fast", [("slow", Speed.Slow), ("fast", Speed.Fast)], Speed.Fast);
}
