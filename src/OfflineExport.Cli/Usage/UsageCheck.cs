using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace OfflineExport.Cli.Usage;

/// <summary>
/// What is wrong with a command line, as one line that names what was typed and, where one is close, what
/// was meant. Checked before any verb runs, errors or not: System.CommandLine takes an unknown "--taget"
/// for a file name when the verb accepts file names; this tool never does.
/// </summary>
public static partial class UsageCheck
{
    /// <summary>The problem with <paramref name="parse"/>, or null when the command line is fine.</summary>
    /// <param name="parse">The parsed line.</param>
    /// <param name="typed">The words as typed: "--bitmap=-v" gives a value that looks like an option on purpose.</param>
    public static string? Problem(ParseResult parse, IReadOnlyList<string>? typed = null)
    {
        var command = parse.CommandResult;
        var values = OptionValues(parse.RootCommandResult);
        // "--target --json" with $DIR unset in a cron line: --target would take "--json" for a folder's name.
        if (OptionTakingAnOption(parse.RootCommandResult, OptionNames(command).ToHashSet(StringComparer.Ordinal), typed ?? []) is var (option, longName, taken))
        {
            return $"{option} needs a value, not the option '{taken}' (to give that very value, write {longName}={taken})";
        }

        // An empty word is never a file, a folder or a name: a script's unset variable ("--target $DIR").
        if (parse.Tokens.FirstOrDefault(t => t.Type == TokenType.Argument && t.Value.Trim().Length == 0) is { } empty)
        {
            var owner = OptionResults(parse.RootCommandResult).FirstOrDefault(o => o.Tokens.Contains(empty))?.Option.Name;
            return $"an empty value was given{(owner is null ? string.Empty : $" for {owner}")} (an unset variable in a script?)";
        }

        var afterDoubleDash = false;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                afterDoubleDash = true;
                continue;
            }

            // After "--" everything is a file name, so a file called "-x" can still be given.
            if (afterDoubleDash || token.Type != TokenType.Argument || values.Contains(token) || !LooksLikeOption(token.Value))
            {
                continue;
            }

            var name = token.Value.Split('=', 2)[0];
            var hint = Suggestions.Closest(name, OptionNames(command));
            return $"unknown option '{name}' for '{Verb(command)}'{(hint is null ? string.Empty : $" (did you mean '{hint}'?)")}";
        }

        if (command.Command.Subcommands.Count > 0 && command.Command.Arguments.Count == 0)
        {
            var word = parse.Tokens.FirstOrDefault(t => t.Type == TokenType.Argument && !values.Contains(t));
            var verbs = command.Command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
            if (word is not null)
            {
                var hint = Suggestions.Closest(word.Value, verbs);
                return $"unknown command '{word.Value}'{(hint is null ? $"; the commands are {string.Join(", ", verbs)}" : $" (did you mean '{hint}'?)")}";
            }

            if (parse.Errors.Count > 0)
            {
                return $"no command given; the commands are {string.Join(", ", verbs)}";
            }
        }

        return parse.Errors.Count > 0 ? OneLine(Rephrase(parse.Errors[0].Message, OptionOf(parse.Errors[0].SymbolResult))) : null;
    }

    /// <summary>True when the line asks for help or the version: those are shown whatever else is wrong.</summary>
    public static bool AsksForHelp(ParseResult parse) =>
        parse.Tokens.Any(t => t.Type == TokenType.Option && t.Value is "--help" or "-h" or "-?" or "--version");

    /// <summary>True when the line has --json: the usage error is then also a JSON object on stdout.</summary>
    public static bool AsksForJson(ParseResult parse) =>
        parse.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash).Any(t => t.Type == TokenType.Option && t.Value == "--json");

    /// <summary>The verb as the user types it, for "see '… --help'".</summary>
    public static string Verb(CommandResult command)
    {
        var names = new List<string>();
        for (var c = command; c is not null; c = c.Parent as CommandResult)
        {
            names.Insert(0, c.Parent is null ? "offline-export" : c.Command.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>System.CommandLine's messages in this tool's words: no .NET type names, no trailing full stop.</summary>
    /// <param name="message">System.CommandLine's message.</param>
    /// <param name="option">The option the message is about, when known (for a value not among the allowed ones).</param>
    public static string Rephrase(string message, string? option = null)
    {
        if (NotAmong().Match(message) is { Success: true } among)
        {
            var allowed = string.Join(" or ", Quoted().Matches(among.Groups["allowed"].Value).Select(m => m.Groups[1].Value));
            return $"'{among.Groups["value"].Value}' is not a valid value{(option is null ? string.Empty : $" for {option}")} ({allowed})";
        }

        if (CannotParse().Match(message) is { Success: true } bad)
        {
            return $"'{bad.Groups["value"].Value}' is not a valid value for {bad.Groups["option"].Value} ({Expected(bad.Groups["type"].Value)})";
        }

        if (RequiredOption().Match(message) is { Success: true } required)
        {
            return $"option {required.Groups["option"].Value} is required";
        }

        if (MissingArgument().Match(message) is { Success: true } missing)
        {
            return $"{missing.Groups["argument"].Value} is missing";
        }

        if (Unrecognized().Match(message) is { Success: true } extra)
        {
            return $"unexpected argument '{extra.Groups["token"].Value}'";
        }

        return message.TrimEnd('.');
    }

    /// <summary>One line: a message that spans several (a list of allowed values) joined with spaces.</summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The option a parse error's symbol belongs to ("--format" for its argument), or null.</summary>
    private static string? OptionOf(SymbolResult? symbol) => symbol switch
    {
        OptionResult option => option.Option.Name,
        ArgumentResult { Parent: OptionResult option } => option.Option.Name,
        _ => null,
    };

    /// <summary>The first option that took another option's spelling as its value, or null.</summary>
    private static (string Option, string LongName, string Taken)? OptionTakingAnOption(CommandResult root, HashSet<string> optionNames, IReadOnlyList<string> typed)
    {
        foreach (var option in OptionResults(root))
        {
            var spelled = option.IdentifierToken?.Value ?? option.Option.Name;
            if (option.Tokens.FirstOrDefault(t => optionNames.Contains(t.Value) && !typed.Contains($"{spelled}={t.Value}")) is { } taken)
            {
                return (spelled, option.Option.Name, taken.Value);
            }
        }

        return null;
    }

    /// <summary>Every option given on the line, at any depth of the command tree.</summary>
    private static IEnumerable<OptionResult> OptionResults(CommandResult root)
    {
        var pending = new Stack<SymbolResult>([root]);
        while (pending.TryPop(out var result))
        {
            if (result is OptionResult option)
            {
                yield return option;
            }

            foreach (var child in result is CommandResult c ? c.Children : [])
            {
                pending.Push(child);
            }
        }
    }

    private static string Expected(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt64" or "System.Int32?" or "System.Int64?" => "expected a whole number",
        "System.Double" or "System.Decimal" => "expected a number",
        _ => "see --help for what it takes",
    };

    /// <summary>An unknown option, not a negative number nor a lone "-".</summary>
    private static bool LooksLikeOption(string text) =>
        text.Length > 1 && text[0] == '-' && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>Every option spelling <paramref name="command"/> accepts: its own and its ancestors' recursive ones.</summary>
    private static IEnumerable<string> OptionNames(CommandResult command)
    {
        foreach (var option in command.Command.Options)
        {
            yield return option.Name;
            foreach (var alias in option.Aliases)
            {
                yield return alias;
            }
        }

        for (var parent = command.Parent as CommandResult; parent is not null; parent = parent.Parent as CommandResult)
        {
            foreach (var option in parent.Command.Options.Where(o => o.Recursive))
            {
                yield return option.Name;
                foreach (var alias in option.Aliases)
                {
                    yield return alias;
                }
            }
        }
    }

    /// <summary>The tokens consumed as option values (by reference: the same text may also be a stray argument).</summary>
    private static HashSet<Token> OptionValues(CommandResult root) =>
        new(OptionResults(root).SelectMany(o => o.Tokens), ReferenceEqualityComparer.Instance);

    [GeneratedRegex("^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();

    [GeneratedRegex("^Option '(?<option>[^']+)' is required")]
    private static partial Regex RequiredOption();

    [GeneratedRegex("^Argument '(?<value>.*)' not recognized\\. Must be one of:(?<allowed>[\\s\\S]*)$")]
    private static partial Regex NotAmong();

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex("^Required argument '(?<argument>[^']+)' missing")]
    private static partial Regex MissingArgument();

    [GeneratedRegex("^Unrecognized command or argument '(?<token>.*)'\\.?$")]
    private static partial Regex Unrecognized();
}
