using System.Text.Json.Nodes;
using OfflineExport.IntegrationTests.Support;
using OfflineExport.IO;
using OfflineExport.Qemu;
using OfflineExport.Qmp;
using static OfflineExport.IntegrationTests.Support.QemuTestTools;

namespace OfflineExport.IntegrationTests.Export;

/// <summary>
/// The daemon opens the partial output by name; an export writes only when the file the name led the real
/// qemu-storage-daemon to is the one the export created, which its /proc descriptors tell.
/// </summary>
public sealed class DaemonOpenFilesTests : IDisposable
{
    private readonly TestWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task The_daemon_is_seen_holding_the_file_a_name_led_it_to_and_not_the_file_the_name_had_before()
    {
        // Arrange: "out.partial" is created, then replaced by a symlink to a decoy before the daemon opens it.
        var ours = _ws["out.partial"];
        await File.WriteAllBytesAsync(ours, []);
        var created = FileIdentity.Of(ours)!;
        var decoy = _ws["decoy.qcow2"];
        await CreateQcow2Async(decoy, "8M");
        File.Move(ours, _ws["moved-away"]);
        File.CreateSymbolicLink(ours, decoy);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var options = _ws.Options;
        await using var daemon = await StorageDaemon.StartAsync(options.Tools.Resolve().StorageDaemon, _ws.WorkDirectory, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), null, cts.Token);

        // Act
        var before = daemon.HoldsOpen(created);
        await daemon.Qmp.BlockdevAddAsync(new JsonObject { ["driver"] = "file", ["node-name"] = "f", ["filename"] = ours, ["read-only"] = true }, cts.Token);
        var ownAfterOpen = daemon.HoldsOpen(created);
        var decoyAfterOpen = daemon.HoldsOpen(FileIdentity.Of(decoy)!);
        await daemon.StopAsync(TimeSpan.FromSeconds(30), cts.Token);

        // Assert
        Assert.False(before);
        Assert.False(ownAfterOpen); // what an export refuses to write into
        Assert.True(decoyAfterOpen);
    }

    [Fact]
    public async Task An_export_through_a_daemon_wrapper_that_does_not_exec_it_still_finds_its_own_file()
    {
        // The pid to look at is the one the daemon writes itself, not the wrapper's.
        var wrapper = _ws["qsd-wrapper.sh"];
        await File.WriteAllTextAsync(wrapper, "#!/bin/sh\nnice -n 1 qemu-storage-daemon \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var image = _ws["vda.qcow2"];
        await CreateQcow2Async(image, "16M");
        await IoAsync(image, "write -P 0x01 0 1M");
        var options = _ws.Options with { Tools = new QemuTools(StorageDaemon: wrapper) };

        var result = await ExportHarness.ExportWithAsync(_ws, options, new OfflineExport.Export.ExportRequest { Image = image, Output = _ws["full.qcow2"] }, image);

        Assert.Equal(1UL << 20, result.BytesCopied);
        Assert.Equal(0, await CompareAsync(_ws["full.qcow2"], image));
    }
}
