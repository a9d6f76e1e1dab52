using System.Diagnostics;
using OfflineExport.IO;

namespace OfflineExport.Tests.IO;

/// <summary>The holder side is qemu's and is proved on real qemu in the integration tests; here, what needs none.</summary>
public sealed class QemuImageLocksTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oe-locks-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_file_nobody_holds_is_neither_written_nor_open()
    {
        var file = Path.Combine(_root, "disk.raw");
        File.WriteAllBytes(file, new byte[4096]);
        // Our own open file, without qemu's lock bytes, is not a holder.
        using var open = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);

        Assert.False(QemuImageLocks.IsHeldForWriting(file));
        Assert.False(QemuImageLocks.IsOpenByQemu(file));
    }

    [Fact]
    public async Task A_fifo_is_answered_at_once_instead_of_waiting_for_a_writer()
    {
        var fifo = Path.Combine(_root, "pipe");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }

        var answer = Task.Run(() => QemuImageLocks.IsOpenByQemu(fifo));

        Assert.False(await answer.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
