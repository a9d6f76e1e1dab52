using System.CommandLine;
using System.Globalization;

namespace OfflineExport.Cli;

/// <summary>Options every command accepts.</summary>
public static class CommonOptions
{
    /// <summary>--verbose: log qemu commands and QMP traffic to stderr; stack traces on errors.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log qemu commands, QMP traffic and daemon output to stderr; show stack traces on errors",
        Recursive = true,
    };

    /// <summary>--quiet: nothing on success (no progress, notes or summaries); warnings and errors still print.</summary>
    public static Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "Print nothing when all goes well: no progress, notes or summaries (warnings and errors still print; for cron)",
        Recursive = true,
    };

    /// <summary>--config FILE: a configuration file read after the system and user ones.</summary>
    public static Option<string?> Config { get; } = new("--config")
    {
        Description = "Read this configuration file (after /etc/offline-export/config.json and ~/.config/offline-export/config.json)",
        HelpName = "FILE",
        Recursive = true,
    };

    /// <summary>--set KEY=VALUE: a configuration value that wins over every file and variable.</summary>
    public static Option<string[]> Set { get; } = new("--set")
    {
        Description = "Set a configuration value, e.g. --set Export:RequestSize=1M (repeatable; wins over files and OFFLINE_EXPORT_* variables)",
        HelpName = "KEY=VALUE",
        Recursive = true,
    };

    /// <summary>A command's --json option: one JSON object on stdout, errors as {"error": …}.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object on stdout (errors as {\"error\": …}, same exit codes)" };

    /// <summary>A command's --dry-run option.</summary>
    public static Option<bool> DryRun() => new("--dry-run", "-n") { Description = "Validate everything and measure what would be copied; write nothing" };

    /// <summary>
    /// A command's --format option: the top image's format as the caller knows it. Without it qemu guesses
    /// from the file's first bytes, which the guest of a raw disk writes.
    /// </summary>
    public static Option<string?> Format(string appliesTo) => new Option<string?>("--format")
    {
        Description = $"The format of {appliesTo}: raw or qcow2, never guessed when given. Without it the format is detected and the output says so; "
            + "a guest can write a qcow2 header into a raw disk, so state it (libvirt's <driver type>); export and backup refuse a detected header that names another file (a qcow2's backing or data file, a VMDK or QED image)",
        HelpName = "raw|qcow2",
    }.AcceptOnlyFromAmong("raw", "qcow2");

    /// <summary>
    /// An option whose values are the words users type (<c>auto|full|inc|diff</c>), never a .NET enum's
    /// names; a wrong word is a usage error that lists the right ones. Absent, its value is null and the
    /// verb takes <paramref name="defaultValue"/> (a default value in the parser would print in help by its .NET name).
    /// </summary>
    public static Option<T?> Choice<T>(string name, string alias, string description, IReadOnlyList<(string Word, T Value)> choices, T defaultValue)
        where T : struct
    {
        var words = string.Join(", ", choices.Select(c => c.Word));
        var fallback = choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, defaultValue)).Word;
        return new Option<T?>(name, alias)
        {
            Description = $"{description} (default: {fallback})",
            HelpName = string.Join('|', choices.Select(c => c.Word)),
            CustomParser = result =>
            {
                var word = result.Tokens.Count == 0 ? string.Empty : result.Tokens[^1].Value;
                foreach (var (choice, value) in choices)
                {
                    if (string.Equals(choice, word, StringComparison.OrdinalIgnoreCase))
                    {
                        return value;
                    }
                }

                result.AddError($"{name} takes one of {words}, not '{word}'");
                return null;
            },
        };
    }

    /// <summary>An optional whole-number option (<paramref name="helpName"/>, 0 or more); anything else is a usage error saying so.</summary>
    public static Option<int?> Count(string name, string? alias, string description, string helpName = "N")
    {
        var option = alias is null ? new Option<int?>(name) : new Option<int?>(name, alias);
        option.Description = description;
        option.HelpName = helpName;
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return null;
            }

            var text = result.Tokens[^1].Value;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            result.AddError($"{name} takes a whole number ({helpName}), not '{text}'");
            return null;
        };
        return option;
    }
}
