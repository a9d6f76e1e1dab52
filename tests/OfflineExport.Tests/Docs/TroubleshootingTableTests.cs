using System.Text;
using System.Text.RegularExpressions;

namespace OfflineExport.Tests.Docs;

/// <summary>
/// The README's Troubleshooting table is looked up by the exact text of an error, so every message in a
/// row's first cell must still be one the code prints. A message is cut at its placeholders (IMAGE, N, …)
/// and at "…"; each remaining fragment of 4 or more characters must be made by the string literals of
/// src/. Messages are composed (one literal fills a hole of another), so a fragment may run across such a
/// seam, from the end of one literal into the start of the next, but never across other text.
/// </summary>
public sealed class TroubleshootingTableTests
{
    private const int ShortestChecked = 4;
    private const char Hole = '\u0001';

    // The values a message names: the capitals the table uses, the example disk names and numbers.
    private static readonly string[] Placeholders =
    [
        "IMAGE", "LAYER", "LOWER", "BASE", "TOP", "OUTPUT", "PREVIOUS", "DIR", "DIR2", "FILE", "PATH", "NAME",
        "DISK", "URI", "KEY", "SOURCE", "COMMAND", "WHAT", "STATE", "OPT", "WORD", "NEAR",
        "A", "B", "C", "D", "F", "G", "I", "J", "M", "N", "O", "P", "S", "T", "V", "X", "Y",
        "vda", "vdb",
    ];

    // Words other programs write and our messages only pass on, so they cannot be in our sources.
    private static readonly string[] ForeignPhrases =
    [
        "Could not open",          // qemu-img's own error text
        "Permission denied",       // strerror(EACCES), as qemu prints it
        "Operation not permitted", // strerror(EPERM)
        "No space left on device", // strerror(ENOSPC)
        "Read-only file system",   // strerror(EROFS)
        "LUKS",                    // qemu's encryption format name, upper-cased by ChainValidator
        "SIGINT",                  // PosixSignal names: CommandRunner prints the enum value
        "SIGTERM",
    ];

    private static readonly Regex Cut = new(
        @"(?<![\w-])(?:" + string.Join("|", Placeholders) + @"|\d+)(?![\w-])|…|" + string.Join("|", ForeignPhrases.Select(Regex.Escape)),
        RegexOptions.CultureInvariant);

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private static readonly Lazy<string[]> Pieces = new(() => SourcePieces(Root.Value));

    /// <summary>The first cell of every row of the table, as the README has it.</summary>
    public static TheoryData<string> Rows()
    {
        var lines = File.ReadAllLines(Path.Combine(Root.Value, "README.md"));
        var heading = Array.IndexOf(lines, "## Troubleshooting");
        if (heading < 0)
        {
            throw new InvalidOperationException("README.md has no '## Troubleshooting' section");
        }

        var rows = new TheoryData<string>();
        foreach (var line in lines.Skip(heading + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)))
        {
            if (line.StartsWith("| `", StringComparison.Ordinal))
            {
                rows.Add(FirstCell(line));
            }
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_message_of_a_row_is_one_the_code_prints(string row)
    {
        // Arrange
        var fragments = Messages(row).SelectMany(Fragments).ToList();

        // Act
        var missing = fragments.Where(f => !IsMade(f, Pieces.Value)).ToList();

        // Assert
        Assert.True(missing.Count == 0,
            $"no string literal in src/ makes {string.Join(" nor ", missing.Select(m => $"\"{m}\""))} (README row: {row})");
    }

    [Fact]
    public void A_message_the_code_does_not_print_is_not_found()
    {
        // Arrange
        var fragments = Fragments("bitmap 'X' was eaten by IMAGE; take a full export").ToList();

        // Act
        var missing = fragments.Where(f => !IsMade(f, Pieces.Value)).ToList();

        // Assert
        Assert.Equal("' was eaten by ", Assert.Single(missing));
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "OfflineExport.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds OfflineExport.sln");
    }

    // The cell ends at the first '|' outside backticks: a message may itself hold one.
    private static string FirstCell(string line)
    {
        var quoted = false;
        for (var i = 1; i < line.Length; i++)
        {
            if (line[i] == '`')
            {
                quoted = !quoted;
            }
            else if (line[i] == '|' && !quoted)
            {
                return line[1..i].Trim();
            }
        }

        return line[1..].Trim();
    }

    private static IEnumerable<string> Messages(string cell) =>
        Regex.Matches(cell, "`([^`]+)`").Select(m => m.Groups[1].Value);

    private static IEnumerable<string> Fragments(string message) =>
        Cut.Split(message).Where(f => f.Length >= ShortestChecked);

    /// <summary>
    /// True when some literal holds <paramref name="fragment"/>, or when it reads as the end of one literal
    /// piece, any whole pieces, and the start of another: the seams a filled hole or a '+' leaves.
    /// </summary>
    private static bool IsMade(string fragment, string[] pieces)
    {
        if (pieces.Any(p => p.Contains(fragment, StringComparison.Ordinal)))
        {
            return true;
        }

        var starts = new Stack<int>();
        for (var k = ShortestChecked; k < fragment.Length; k++)
        {
            var head = fragment[..k];
            if (pieces.Any(p => p.EndsWith(head, StringComparison.Ordinal)))
            {
                starts.Push(k);
            }
        }

        PushWholePieces(fragment, 0, pieces, starts);
        var seen = new HashSet<int>();
        while (starts.Count > 0)
        {
            var start = starts.Pop();
            if (!seen.Add(start))
            {
                continue;
            }

            var rest = fragment[start..];
            if ((rest.Length >= ShortestChecked && pieces.Any(p => p.StartsWith(rest, StringComparison.Ordinal)))
                || pieces.Contains(rest, StringComparer.Ordinal))
            {
                return true;
            }

            PushWholePieces(fragment, start, pieces, starts);
        }

        return false;
    }

    private static void PushWholePieces(string fragment, int start, string[] pieces, Stack<int> starts)
    {
        var rest = fragment.AsSpan(start);
        foreach (var piece in pieces)
        {
            if (piece.Length < rest.Length && rest.StartsWith(piece, StringComparison.Ordinal))
            {
                starts.Push(start + piece.Length);
            }
        }
    }

    /// <summary>Every string literal of src/**/*.cs, cut at its interpolation holes, without duplicates.</summary>
    private static string[] SourcePieces(string root)
    {
        var source = Path.Combine(root, "src");
        return Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(source, f).Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin"))
            .SelectMany(f => StringLiterals(File.ReadAllText(f)))
            .SelectMany(l => l.Split(Hole))
            .Where(p => p.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    // A small C# lexer, enough for our sources: comments and char literals are skipped; regular, verbatim,
    // interpolated and raw strings are read; literals joined by '+' count as one.
    private static List<string> StringLiterals(string text)
    {
        var literals = new List<string>();
        var nested = new List<string>();
        var lastEnd = -1;
        var i = 0;
        while (i < text.Length)
        {
            if (text.AsSpan(i).StartsWith("//", StringComparison.Ordinal))
            {
                var end = text.IndexOf('\n', i);
                i = end < 0 ? text.Length : end;
            }
            else if (text.AsSpan(i).StartsWith("/*", StringComparison.Ordinal))
            {
                i = text.IndexOf("*/", i + 2, StringComparison.Ordinal) + 2;
            }
            else if (text[i] == '\'')
            {
                i = SkipCharLiteral(text, i);
            }
            else if (StartsString(text, i))
            {
                var start = i;
                var literal = ReadString(text, ref i, nested);
                if (lastEnd >= 0 && text.AsSpan(lastEnd, start - lastEnd).Trim() is "+")
                {
                    literals[^1] += literal;
                }
                else
                {
                    literals.Add(literal);
                }

                lastEnd = i;
            }
            else if (char.IsLetterOrDigit(text[i]) || text[i] == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
            }
            else
            {
                i++;
            }
        }

        literals.AddRange(nested);
        return literals;
    }

    private static bool StartsString(string text, int i) =>
        text[i] == '"' || (text[i] is '$' or '@' && i + 1 < text.Length && text[i + 1] is '"' or '$' or '@');

    private static string ReadString(string text, ref int i, List<string> nested)
    {
        var dollars = 0;
        var verbatim = false;
        for (; text[i] is '$' or '@'; i++)
        {
            dollars += text[i] == '$' ? 1 : 0;
            verbatim |= text[i] == '@';
        }

        var quotes = 0;
        while (i + quotes < text.Length && text[i + quotes] == '"')
        {
            quotes++;
        }

        if (quotes >= 3)
        {
            return ReadRawString(text, ref i, quotes, dollars);
        }

        var value = new StringBuilder();
        i++;
        while (true)
        {
            var c = text[i];
            if (c == '"' && verbatim && text[i + 1] == '"')
            {
                value.Append('"');
                i += 2;
            }
            else if (c == '"')
            {
                i++;
                return value.ToString();
            }
            else if (c == '\\' && !verbatim)
            {
                value.Append(text[i + 1] switch { 'n' => '\n', 't' => '\t', '0' => '\0', var e => e });
                i += 2;
            }
            else if (dollars > 0 && (c is '{' or '}') && text[i + 1] == c)
            {
                value.Append(c);
                i += 2;
            }
            else if (dollars > 0 && c == '{')
            {
                i = SkipHole(text, i + 1, nested);
                value.Append(Hole);
            }
            else
            {
                value.Append(c);
                i++;
            }
        }
    }

    private static string ReadRawString(string text, ref int i, int quotes, int dollars)
    {
        var fence = new string('"', quotes);
        var end = text.IndexOf(fence, i + quotes, StringComparison.Ordinal);
        var body = text[(i + quotes)..end];
        i = end + quotes;
        var lines = body.Split('\n');
        if (lines.Length > 1)
        {
            // A multi-line raw string drops its first and last line and the last line's indentation.
            var indent = lines[^1];
            body = string.Join('\n', lines[1..^1].Select(l => l.StartsWith(indent, StringComparison.Ordinal) ? l[indent.Length..] : l));
        }

        if (dollars > 0)
        {
            var open = new string('{', dollars);
            var close = new string('}', dollars);
            body = Regex.Replace(body, Regex.Escape(open) + "[^{}]*" + Regex.Escape(close), Hole.ToString());
        }

        return body;
    }

    // Returns the index after the hole's closing brace; literals inside the hole are kept as literals of their own.
    private static int SkipHole(string text, int i, List<string> nested)
    {
        var depth = 0;
        while (true)
        {
            var c = text[i];
            if (StartsString(text, i))
            {
                nested.Add(ReadString(text, ref i, nested));
                continue;
            }

            if (c == '\'')
            {
                i = SkipCharLiteral(text, i);
                continue;
            }

            if (c is '(' or '[' or '{')
            {
                depth++;
            }
            else if (c is ')' or ']')
            {
                depth--;
            }
            else if (c == '}')
            {
                if (depth == 0)
                {
                    return i + 1;
                }

                depth--;
            }

            i++;
        }
    }

    private static int SkipCharLiteral(string text, int i)
    {
        i++;
        while (text[i] != '\'')
        {
            i += text[i] == '\\' ? 2 : 1;
        }

        return i + 1;
    }
}
