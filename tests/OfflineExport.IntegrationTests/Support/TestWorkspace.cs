using OfflineExport.Export;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>
/// A unique temporary folder per test, holding its images and the daemon's private work folder.
/// Disposing checks that no qemu-storage-daemon of this test survived, then removes the folder.
/// </summary>
public sealed class TestWorkspace : IDisposable
{
    /// <summary>Creates the folder.</summary>
    public TestWorkspace()
    {
        Root = Directory.CreateTempSubdirectory("oe-it-").FullName;
        WorkDirectory = Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>Parent of the daemon's private folders; its processes carry this path on their command lines.</summary>
    public string WorkDirectory { get; }

    /// <summary>A path inside the folder.</summary>
    public string this[string name] => Path.Combine(Root, name);

    /// <summary>Export options that put the daemon's sockets inside this workspace.</summary>
    public ExportOptions Options => new() { WorkDirectory = WorkDirectory };

    /// <summary>Process ids of qemu processes whose command line mentions this workspace.</summary>
    public IReadOnlyList<int> SurvivingQemuProcesses()
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("qemu", StringComparison.Ordinal) && cmdline.Contains(Root, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>Process ids of this workspace's qemu-storage-daemon processes.</summary>
    public IReadOnlyList<int> DaemonProcesses() =>
        SurvivingQemuProcesses().Where(pid => ReadCommandLine(pid).Contains("qemu-storage-daemon", StringComparison.Ordinal)).ToList();

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Asserts nothing was left behind: no daemon, no private folder, no partial output.</summary>
    public void AssertNothingLeftBehind()
    {
        Assert.Empty(SurvivingQemuProcesses());
        Assert.Empty(Directory.EnumerateFileSystemEntries(WorkDirectory));
        Assert.Empty(Directory.EnumerateFiles(Root, "*.partial", SearchOption.AllDirectories));
    }

    /// <summary>Removes the folder (after killing any survivor, so one failure does not leak into other tests).</summary>
    public void Dispose()
    {
        foreach (var pid in SurvivingQemuProcesses())
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
