using System.Buffers.Binary;
using CliWrap;
using OfflineExport.Processes;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>Ways to break images on purpose, the way real life does.</summary>
public static class ImageFaults
{
    /// <summary>qcow2 header extension type of the backing file format.</summary>
    private const uint BackingFormatExtension = 0xE2792ACA;

    /// <summary>
    /// A hostile guest's raw disk of 16 MiB whose first bytes are a qcow2 header made with
    /// <paramref name="createOptions"/> (e.g. a backing file or an external data file naming a host file);
    /// returns the host file the header names, holding 1 MiB of 'S'.
    /// </summary>
    public static async Task<string> RawDiskDressedAsQcow2Async(string disk, Func<string, string[]> createOptions)
    {
        var folder = Path.GetDirectoryName(disk)!;
        var secret = Path.Combine(folder, "host-secret.raw");
        File.WriteAllText(secret, new string('S', 1 << 20));
        var header = Path.Combine(folder, $"header-{Guid.NewGuid():N}.qcow2");
        await QemuTestTools.ImgAsync(["create", "-q", "-f", "qcow2", .. createOptions(secret), header, "16M"]);
        using (var raw = File.Create(disk))
        {
            raw.SetLength(16 << 20);
            raw.Write(File.ReadAllBytes(header));
        }

        File.Delete(header);
        return secret;
    }

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
    public static async Task<RunningProcess> HoldReadWriteAsync(string image, string format = "qcow2")
    {
        // qsd handles its options in order: the monitor socket appears only after the image is open.
        // (Probing with qemu-img instead would take a shared lock of its own and race the holder.)
        var socket = Path.Combine(Path.GetDirectoryName(image)!, $"holder-{Guid.NewGuid():N}.sock");
        var process = ChildProcess.Start(CliWrap.Cli.Wrap("qemu-storage-daemon")
            .WithArguments([
                "--blockdev", $"driver=file,node-name=f,filename={image}",
                "--blockdev", $"driver={format},node-name=q,file=f",
                // A writable export is this "VM"'s device: it takes the write permission (and its lock) as a guest's disk does.
                "--nbd-server", $"addr.type=unix,addr.path={socket}.nbd",
                "--export", "type=nbd,id=e,node-name=q,writable=on",
                "--chardev", $"socket,id=m,path={socket},server=on,wait=off",
                "--monitor", "chardev=m",
            ]), new ProcessSettings());
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

    /// <summary>
    /// The classic format-probing attack: the guest of a raw disk writes a valid qcow2 header at the
    /// start of its disk, naming a host file as backing file. Made here with qemu-img's own header,
    /// written over the first bytes of <paramref name="rawDisk"/>.
    /// </summary>
    public static async Task ForgeQcow2HeaderAsync(string rawDisk, string hostFile)
    {
        var header = rawDisk + ".forged-header";
        await QemuTestTools.ImgAsync("create", "-q", "-f", "qcow2", "-b", hostFile, "-F", "raw", header, new FileInfo(rawDisk).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var bytes = await File.ReadAllBytesAsync(header);
        File.Delete(header);
        using var disk = new FileStream(rawDisk, FileMode.Open, FileAccess.Write);
        disk.Write(bytes);
    }

    /// <summary>Cuts a qcow2 to <paramref name="length"/> bytes: its tables survive, the data clusters they point at do not.</summary>
    public static void Truncate(string image, long length)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    /// <summary>Points the first L2 entry of the first L2 table at 1 GiB, far past the end of the file.</summary>
    public static void PointFirstL2EntryPastTheEnd(string image) => SetFirstL2Entry(image, (1UL << 63) | (1UL << 30)); // COPIED, host offset 1 GiB

    /// <summary>Clears the first L2 entry: its data cluster stays allocated but unused, a leak and nothing worse.</summary>
    public static void LeakFirstDataCluster(string image) => SetFirstL2Entry(image, 0);

    private static void SetFirstL2Entry(string image, ulong value)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        var header = new byte[48];
        file.ReadExactly(header);
        var l1Offset = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(40));
        var entry = new byte[8];
        file.Position = l1Offset;
        file.ReadExactly(entry);
        var l2Offset = (long)(BinaryPrimitives.ReadUInt64BigEndian(entry) & 0x00FF_FFFF_FFFF_FE00UL);
        if (l2Offset == 0)
        {
            throw new InvalidOperationException($"{image} has no L2 table: write data first");
        }

        BinaryPrimitives.WriteUInt64BigEndian(entry, value);
        file.Position = l2Offset;
        file.Write(entry);
    }
}
