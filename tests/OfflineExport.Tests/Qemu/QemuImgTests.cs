using OfflineExport.Qemu;

namespace OfflineExport.Tests.Qemu;

public sealed class QemuImgTests
{
    [Theory]
    [InlineData("qemu-img: Could not open 'top.qcow2': Failed to get shared \"write\" lock")]
    [InlineData("Is another process using the image [top.qcow2]?")]
    [InlineData("qemu-img: Could not open 'top.qcow2': Failed to get shared \"write\" lock\nIs another process using the image [top.qcow2]?\n")]
    [InlineData("qemu-img: Could not open 'top.qcow2': Failed to get \"write\" lock\nIs another process using the image [top.qcow2]?\n")]
    public void Qemu_lock_messages_are_lock_errors(string stderr)
    {
        // Act
        var isLock = QemuImg.IsLockError(stderr);

        // Assert
        Assert.True(isLock);
    }

    [Theory]
    [InlineData("")]
    [InlineData("qemu-img: Could not open 'top.qcow2': Could not open 'top.qcow2': No such file or directory")]
    [InlineData("qemu-img: Could not open 'top.qcow2': Could not open 'top.qcow2': Permission denied")]
    [InlineData("qemu-img: Could not open 'top.qcow2': Image is not in qcow2 format")]
    public void Other_qemu_errors_are_not_lock_errors(string stderr)
    {
        // Act
        var isLock = QemuImg.IsLockError(stderr);

        // Assert
        Assert.False(isLock);
    }
}
