using OfflineExport.Processes;

namespace OfflineExport.Tests.Processes;

public sealed class TextTailTests
{
    [Fact]
    public void Last_lines_are_joined_with_a_bar()
    {
        // Arrange
        const string text = "first\nsecond\nthird\n";

        // Act
        var tail = TextTail.LastLines(text, 2);

        // Assert
        Assert.Equal("second | third", tail);
    }

    [Fact]
    public void Blank_lines_and_surrounding_spaces_are_skipped()
    {
        // Arrange
        const string text = "one\n\n   \n  two  \n\n";

        // Act
        var tail = TextTail.LastLines(text, 2);

        // Assert
        Assert.Equal("one | two", tail);
    }

    [Fact]
    public void Carriage_returns_are_trimmed()
    {
        // Arrange
        const string text = "alpha\r\nbeta\r\n";

        // Act
        var tail = TextTail.LastLines(text, 5);

        // Assert
        Assert.Equal("alpha | beta", tail);
    }

    [Fact]
    public void Asking_for_more_lines_than_exist_returns_all_of_them()
    {
        // Act
        var tail = TextTail.LastLines("only", 3);

        // Assert
        Assert.Equal("only", tail);
    }

    [Fact]
    public void Empty_text_gives_an_empty_tail()
    {
        // Act
        var tail = TextTail.LastLines(string.Empty, 2);

        // Assert
        Assert.Equal(string.Empty, tail);
    }

    [Fact]
    public void One_line_of_a_qemu_lock_error_is_the_last_line()
    {
        // Arrange
        const string stderr = "qemu-img: Could not open 'top.qcow2': Failed to get shared \"write\" lock\nIs another process using the image [top.qcow2]?\n";

        // Act
        var tail = TextTail.LastLines(stderr, 1);

        // Assert
        Assert.Equal("Is another process using the image [top.qcow2]?", tail);
    }
}
