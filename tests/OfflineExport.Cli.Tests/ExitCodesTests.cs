using OfflineExport.Cli.Configuration;

namespace OfflineExport.Cli.Tests;

/// <summary>The exit codes and JSON error types, decided from the library's error kinds only.</summary>
public sealed class ExitCodesTests
{
    public static TheoryData<ErrorKind, int, string> Kinds => new()
    {
        { ErrorKind.InvalidRequest, 2, "usage" },
        { ErrorKind.InvalidImage, 3, "image" },
        { ErrorKind.InvalidCheckpoint, 4, "checkpoint" },
        { ErrorKind.UntrackedChange, 4, "checkpoint" },
        { ErrorKind.ImageInUse, 5, "in-use" },
        { ErrorKind.OutputProblem, 6, "output" },
        { ErrorKind.ToolMissing, 7, "tool" },
        { ErrorKind.QemuFailure, 8, "qemu" },
        { ErrorKind.VerificationFailed, 1, "different" },
        { ErrorKind.BackupFolderProblem, 9, "folder" },
        { ErrorKind.DamagedPoint, 11, "damaged" },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_kind_has_its_documented_code_and_json_type(ErrorKind kind, int code, string type)
    {
        var actual = ExitCodes.FromException(new OfflineExportException(kind, "x"));

        Assert.Equal(code, actual);
        Assert.Equal(type, ExitCodes.KindOf(actual));
        Assert.Contains($"\n  {code} ", "\n" + ExitCodes.HelpTable.Replace("\r", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_kind_is_mapped()
    {
        Assert.All(Enum.GetValues<ErrorKind>(), kind => Assert.NotEqual(ExitCodes.InternalError, ExitCodes.FromKind(kind)));
        Assert.Equal(Enum.GetValues<ErrorKind>().Length, Kinds.Count);
    }

    [Fact]
    public void A_configuration_error_is_a_usage_error()
    {
        Assert.Equal(ExitCodes.Usage, ExitCodes.FromException(new ConfigurationException("bad key")));
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(IOException))]
    [InlineData(typeof(NullReferenceException))]
    public void Anything_else_is_a_bug(Type type)
    {
        var exception = (Exception)Activator.CreateInstance(type)!;

        Assert.Equal(ExitCodes.InternalError, ExitCodes.FromException(exception));
        Assert.Equal("bug", ExitCodes.KindOf(ExitCodes.InternalError));
    }

    [Fact]
    public void Verify_exits_zero_when_identical_and_one_when_different()
    {
        Assert.Equal(0, ExitCodes.FromComparison(identical: true));
        Assert.Equal(1, ExitCodes.FromComparison(identical: false));
    }

    [Theory]
    [InlineData(130, "interrupted")]
    [InlineData(143, "terminated")]
    public void Signals_have_their_own_types(int code, string type)
    {
        Assert.Equal(type, ExitCodes.KindOf(code));
    }
}
