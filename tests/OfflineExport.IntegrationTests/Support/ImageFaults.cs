using System.Buffers.Binary;
using OfflineExport.Processes;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>Ways to break images on purpose, the way real life does.</summary>
public static class ImageFaults
{
    /// <summary>qcow2 header extension type of the backing file format.</summary>
    private const uint BackingFormatExtension = 0xE2792ACA;

    /// <summary>
    /// Leaves an "in-use" (inconsistent) bitmap behind: opens the image read-write in
    /// qemu-storage-daemon (which marks enabled bitmaps in-use) and kills it with SIGKILL.
    /// </summary>
    public static async Task LeaveBitmapsInUseAsync(string image)
    {
        await using var holder = await HoldReadWriteAsync(image);
        holder.Kill();
        await holder.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Starts qemu-storage-daemon holding <paramref name="image"/> read-write, like a running VM; returns once the lock is taken.</summary>
    public static async Task<RunningProcess> HoldReadWriteAsync(string image)
    {
        // qsd handles its options in order: the monitor socket appears only after the image is open.
        // (Probing with qemu-img instead would take a shared lock of its own and race the holder.)
        var socket = Path.Combine(Path.GetDirectoryName(image)!, $"holder-{Guid.NewGuid():N}.sock");
        var process = new Command("qemu-storage-daemon")
            .WithArguments([
                "--blockdev", $"driver=file,node-name=f,filename={image}",
                "--blockdev", "driver=qcow2,node-name=q,file=f",
                "--chardev", $"socket,id=m,path={socket},server=on,wait=off",
                "--monitor", "chardev=m",
            ])
            .Start();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!File.Exists(socket))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"qemu-storage-daemon could not hold {image}: {process.OutputTail}");
            }

            await Task.Delay(20, deadline.Token);
        }

        return process;
    }

    /// <summary>Sets the qcow2 "corrupt" incompatible-feature bit (header offset 72, bit 1).</summary>
    public static void MarkCorrupt(string image)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        var buffer = new byte[8];
        file.Position = 72;
        file.ReadExactly(buffer);
        var features = BinaryPrimitives.ReadUInt64BigEndian(buffer) | 2;
        BinaryPrimitives.WriteUInt64BigEndian(buffer, features);
        file.Position = 72;
        file.Write(buffer);
    }

    /// <summary>
    /// Makes the backing format unrecorded, as in images made by old tools: renames the backing-format
    /// header extension to an unknown type, which qemu ignores.
    /// </summary>
    public static void ForgetBackingFormat(string image)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        var header = new byte[4096];
        file.ReadExactly(header);
        var marker = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(marker, BackingFormatExtension);
        var at = header.AsSpan().IndexOf(marker);
        if (at < 0)
        {
            throw new InvalidOperationException($"{image} has no backing format extension");
        }

        BinaryPrimitives.WriteUInt32BigEndian(marker, 0x0BADF00D);
        file.Position = at;
        file.Write(marker);
    }
}
