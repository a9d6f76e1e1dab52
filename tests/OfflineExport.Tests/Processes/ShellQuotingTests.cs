using OfflineExport.Processes;

namespace OfflineExport.Tests.Processes;

public sealed class ShellQuotingTests
{
    [Theory]
    [InlineData("qemu-img")]
    [InlineData("/var/lib/vm/top.qcow2")]
    [InlineData("--output=json")]
    [InlineData("cluster_size=65536")]
    [InlineData("a,b+c@d%e:f")]
    public void Safe_words_are_left_unchanged(string word)
    {
        // Act
        var quoted = ShellQuoting.Quote(word);

        // Assert
        Assert.Equal(word, quoted);
    }

    [Theory]
    [InlineData("my disk.qcow2", "'my disk.qcow2'")]
    [InlineData("$HOME", "'$HOME'")]
    [InlineData("a;rm -rf /", "'a;rm -rf /'")]
    [InlineData("json:{\"driver\":\"qcow2\"}", "'json:{\"driver\":\"qcow2\"}'")]
    [InlineData("tab\there", "'tab\there'")]
    [InlineData("disqué", "'disqué'")]
    public void Unsafe_words_are_single_quoted(string word, string expected)
    {
        // Act
        var quoted = ShellQuoting.Quote(word);

        // Assert
        Assert.Equal(expected, quoted);
    }

    [Fact]
    public void Empty_word_becomes_two_single_quotes()
    {
        // Act
        var quoted = ShellQuoting.Quote(string.Empty);

        // Assert
        Assert.Equal("''", quoted);
    }

    [Fact]
    public void Single_quote_is_closed_escaped_and_reopened()
    {
        // Act
        var quoted = ShellQuoting.Quote("it's");

        // Assert
        Assert.Equal("'it'\\''s'", quoted);
    }
}
