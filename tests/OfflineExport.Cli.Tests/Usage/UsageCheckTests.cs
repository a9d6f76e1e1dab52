using System.CommandLine;
using OfflineExport.Cli.Usage;

namespace OfflineExport.Cli.Tests.Usage;

/// <summary>
/// Usage errors on the real command tree: one line naming what was typed, a suggestion where one is close,
/// and never an option typo taken for a file name.
/// </summary>
public sealed class UsageCheckTests : IDisposable
{
    private readonly Interruption _interruption = new();
    private readonly RootCommand _root;

    public UsageCheckTests() => _root = CommandTree.Build(new CommandRunner(new TestConsole().Console, _interruption));

    public void Dispose() => _interruption.Dispose();

    [Theory]
    [InlineData("bakup vda.qcow2", "unknown command 'bakup' (did you mean 'backup'?)")]
    [InlineData("frobnicate", "unknown command 'frobnicate'; the commands are info, export, backup, list, restore, check, forget, checkpoints, verify")]
    [InlineData("", "no command given; the commands are info, export, backup, list, restore, check, forget, checkpoints, verify")]
    [InlineData("backup vda.qcow2 --taget /b", "unknown option '--taget' for 'offline-export backup' (did you mean '--target'?)")]
    [InlineData("backup --keep-checkpoint 3 vda.qcow2 --target /b", "unknown option '--keep-checkpoint' for 'offline-export backup' (did you mean '--keep-checkpoints'?)")]
    [InlineData("check /b --read-dat", "unknown option '--read-dat' for 'offline-export check' (did you mean '--read-data'?)")]
    [InlineData("export a.qcow2 b.qcow2 --no-such-option", "unknown option '--no-such-option' for 'offline-export export'")]
    [InlineData("export a.qcow2 b.qcow2 --bitmap=x --forse", "unknown option '--forse' for 'offline-export export' (did you mean '--force'?)")]
    [InlineData("export a.qcow2", "OUTPUT is missing")]
    [InlineData("backup vda.qcow2", "option --target is required")]
    [InlineData("export a.qcow2 b.qcow2 c.qcow2", "unexpected argument 'c.qcow2'")]
    [InlineData("backup vda.qcow2 --target --json", "--target needs a value, not the option '--json' (to give that very value, write --target=--json)")] // $DIR unset in cron
    [InlineData("backup vda.qcow2 -t --quiet", "-t needs a value, not the option '--quiet' (to give that very value, write --target=--quiet)")]
    [InlineData("export a.qcow2 b.qcow2 --backing --verify -b ck", "--backing needs a value, not the option '--verify' (to give that very value, write --backing=--verify)")]
    [InlineData("export a.qcow2 b.qcow2 --format vmdk", "'vmdk' is not a valid value for --format (raw or qcow2)")] // one line, not qemu's list
    public void A_bad_command_line_gets_one_line_naming_what_was_typed(string line, string expected)
    {
        var parse = _root.Parse(Split(line));

        var problem = UsageCheck.Problem(parse);

        Assert.Equal(expected, problem);
    }

    [Theory]
    [InlineData("export a.qcow2 b.qcow2 --bitmap b1 --backing prev.qcow2 --verify")]
    [InlineData("backup vda.qcow2 vdb.qcow2 -t /b --level diff --keep-checkpoints 7 -q")]
    [InlineData("export -- -odd-name.qcow2 out.qcow2")] // after "--", a file may start with a dash
    [InlineData("list /b --json --set Export:RequestSize=1M")]
    [InlineData("backup vda.qcow2 -t ./--json -nq")] // a folder named like an option, spelled as a path; bundled short options
    public void A_good_command_line_has_no_problem(string line) =>
        Assert.Null(UsageCheck.Problem(_root.Parse(Split(line))));

    [Theory]
    [InlineData(new[] { "backup", "vda.qcow2", "--target", "" }, "an empty value was given for --target (an unset variable in a script?)")]
    [InlineData(new[] { "restore", "/b", "" }, "an empty value was given (an unset variable in a script?)")]
    [InlineData(new[] { "export", "a.qcow2", " " }, "an empty value was given (an unset variable in a script?)")]
    [InlineData(new[] { "export", "a.qcow2", "b.qcow2", "--bitmap", "" }, "an empty value was given for --bitmap (an unset variable in a script?)")]
    public void An_empty_word_is_a_usage_error_never_a_file_name(string[] line, string expected) =>
        Assert.Equal(expected, UsageCheck.Problem(_root.Parse(line), line));

    [Fact]
    public void A_value_spelled_like_an_option_is_taken_when_written_with_an_equals_sign()
    {
        string[] line = ["export", "a.qcow2", "b.qcow2", "--bitmap=-v", "--backing", "p.qcow2"];

        Assert.Null(UsageCheck.Problem(_root.Parse(line), line));
    }

    [Fact]
    public void An_option_s_value_that_starts_with_a_dash_is_not_an_unknown_option()
    {
        // --set takes one value; "-x=1" is it, not an option.
        var parse = _root.Parse(["list", "/b", "--set", "-x=1"]);

        Assert.Null(UsageCheck.Problem(parse));
    }

    [Fact]
    public void No_dotnet_type_name_reaches_the_user()
    {
        var message = UsageCheck.Rephrase("Cannot parse argument 'abc' for option '--shutdown-timeout' as expected type 'System.Int32'.");

        Assert.Equal("'abc' is not a valid value for --shutdown-timeout (expected a whole number)", message);
        Assert.DoesNotContain("System.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("backup --json -t /b --taget x", true)]
    [InlineData("export a b -- --json", false)]
    [InlineData("backup vda -t --json", false)] // taken as --target's value: the error says so, in plain text
    public void Json_is_asked_for_only_before_a_double_dash(string line, bool expected) =>
        Assert.Equal(expected, UsageCheck.AsksForJson(_root.Parse(Split(line))));

    private static string[] Split(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
