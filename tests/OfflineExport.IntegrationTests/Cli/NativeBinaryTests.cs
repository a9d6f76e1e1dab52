using System.Runtime.InteropServices;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;
using OfflineExport.IntegrationTests.Support;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Cli;

/// <summary>
/// The native binary <c>make build</c> publishes (bin/offline-export) runs where no .NET is installed:
/// it links only libc, and a backup, its list and a restore work with the .NET install hidden.
/// </summary>
public sealed class NativeBinaryTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static string Native =>
        CliProcess.NativeProgram
        ?? throw new InvalidOperationException($"{CliProcess.ProgramVariable} is not set: run the tests with scripts/test.sh (make test), which builds bin/offline-export first");

    [Fact]
    public async Task Links_nothing_but_the_C_library()
    {
        var ldd = await CliWrap.Cli.Wrap("ldd").WithArguments([Native]).ExecuteBufferedAsync();

        var libraries = ldd.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')[0])
            .ToList();
        Assert.NotEmpty(libraries);
        Assert.All(libraries, library => Assert.Matches(@"^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|/lib64/ld-linux-x86-64\.so\.2)$", library));
    }

    [Fact]
    public async Task Backs_up_lists_and_restores_with_the_dotnet_install_hidden()
    {
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "64M");
        await IoAsync(image, "write -P 0x5a 1M 3M");
        await AddBitmapAsync(image, "start");
        var folder = _ws["backups"];
        // The runtime folder is <root>/shared/Microsoft.NETCore.App/<version>/: hide <root> itself.
        var dotnetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var jitBuild = Path.Combine(AppContext.BaseDirectory, "offline-export");
        var script = $$"""
            set -e
            mount -t tmpfs none '{{dotnetRoot}}'
            test -z "$(ls -A '{{dotnetRoot}}')"
            if env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin '{{jitBuild}}' --version >/dev/null 2>&1; then echo 'the JIT build ran: .NET is not hidden'; exit 99; fi
            run() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME='{{_ws.Root}}' '{{Native}}' "$@"; }
            run backup '{{image}}' --target '{{folder}}' --quiet
            run list '{{folder}}' --json > '{{_ws["list.json"]}}'
            run restore '{{folder}}' '{{_ws["restored.qcow2"]}}' --disk vda --quiet
            """;

        var result = await CliWrap.Cli.Wrap("unshare").WithArguments(["--mount", "--propagation", "private", "sh", "-c", script])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.StandardOutput}{result.StandardError}");
        using var list = JsonDocument.Parse(await File.ReadAllTextAsync(_ws["list.json"]));
        var point = list.RootElement.GetProperty("disks")[0].GetProperty("points")[0];
        Assert.Equal("full", point.GetProperty("level").GetString());
        Assert.Equal(64, point.GetProperty("fileSha256").GetString()!.Length);
        Assert.Equal(0, await CompareAsync(_ws["restored.qcow2"], image));
        _ws.AssertNothingLeftBehind();
    }
}
