using System.Diagnostics;
using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

/// <summary>What an output may be: a new name, or with --force an existing regular file, never a device, pipe or symlink.</summary>
public sealed class OutputFileTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("oe-output-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void A_new_name_and_with_force_an_existing_regular_file_are_accepted()
    {
        var output = Path.Combine(_folder.FullName, "vda.qcow2");
        OutputFile.CheckCanCreate(output, force: false);
        File.WriteAllText(output, "old backup");

        OutputFile.CheckCanCreate(output, force: true);
        var refused = Assert.Throws<OfflineExportException>(() => OutputFile.CheckCanCreate(output, force: false));
        Assert.Contains("already exists; use --force", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_character_device_is_refused_even_with_force()
    {
        var error = Assert.Throws<OfflineExportException>(() => OutputFile.CheckCanCreate("/dev/null", force: true));

        Assert.Equal(ErrorKind.OutputProblem, error.Kind);
        Assert.StartsWith("output /dev/null is a character device, not a regular file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symlink_is_refused_even_with_force_whatever_it_leads_to()
    {
        var toDevice = Path.Combine(_folder.FullName, "lv-link");
        var toFile = Path.Combine(_folder.FullName, "file-link");
        var dangling = Path.Combine(_folder.FullName, "dangling");
        File.CreateSymbolicLink(toDevice, "/dev/null");
        File.WriteAllText(Path.Combine(_folder.FullName, "real.qcow2"), "x");
        File.CreateSymbolicLink(toFile, Path.Combine(_folder.FullName, "real.qcow2"));
        File.CreateSymbolicLink(dangling, Path.Combine(_folder.FullName, "nothing"));

        foreach (var link in new[] { toDevice, toFile, dangling })
        {
            var error = Assert.Throws<OfflineExportException>(() => OutputFile.CheckCanCreate(link, force: true));
            Assert.Contains("is a symbolic link, not a regular file", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_named_pipe_is_refused_even_with_force()
    {
        var fifo = Path.Combine(_folder.FullName, "pipe");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var error = Assert.Throws<OfflineExportException>(() => OutputFile.CheckCanCreate(fifo, force: true));

        Assert.Contains("is a named pipe, not a regular file", error.Message, StringComparison.Ordinal);
    }
}
