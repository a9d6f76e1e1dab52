using System.Diagnostics;
using System.Security.Cryptography;
using OfflineExport.IO;

namespace OfflineExport.Tests.IO;

/// <summary>Opening a file to hold it: only a regular file, never through a final symlink, never waiting on a pipe; and copying what is held.</summary>
public sealed class RegularFileHandleTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oe-held-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Named(string name) => Path.Combine(_root, name);

    private void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public void A_held_file_is_read_as_it_was_whatever_its_name_leads_to_later()
    {
        File.WriteAllText(Named("point"), "checked");
        using var handle = RegularFileHandle.OpenForReading(Named("point"));
        File.Move(Named("point"), Named("moved"));
        File.WriteAllText(Named("point"), "swapped in");

        var buffer = new byte[32];
        var count = RandomAccess.Read(handle, buffer, 0);

        Assert.Equal("checked", System.Text.Encoding.ASCII.GetString(buffer, 0, count));
    }

    [Fact]
    public void A_pipe_a_folder_a_symlink_and_nothing_are_refused_at_once()
    {
        MakeFifo(Named("pipe"));
        Directory.CreateDirectory(Named("folder"));
        File.WriteAllText(Named("target"), "x");
        File.CreateSymbolicLink(Named("link"), Named("target"));

        // A pipe with no writer: an open that waited for one would never return.
        Assert.Equal($"{Named("pipe")} is a named pipe, not a regular file", Assert.Throws<IOException>(() => RegularFileHandle.OpenForReading(Named("pipe"))).Message);
        Assert.Equal($"{Named("folder")} is a folder, not a regular file", Assert.Throws<IOException>(() => RegularFileHandle.OpenForReading(Named("folder"))).Message);
        Assert.Equal($"{Named("link")} is a symlink", Assert.Throws<IOException>(() => RegularFileHandle.OpenForReading(Named("link"))).Message);
        Assert.Throws<FileNotFoundException>(() => RegularFileHandle.OpenForReading(Named("none")));
    }

    [Fact]
    public void A_symlink_is_followed_when_asked_but_still_only_to_a_regular_file()
    {
        File.WriteAllText(Named("config.json"), "{}");
        File.CreateSymbolicLink(Named("link.json"), Named("config.json"));
        MakeFifo(Named("pipe"));
        File.CreateSymbolicLink(Named("pipe-link"), Named("pipe"));

        using var handle = RegularFileHandle.OpenForReading(Named("link.json"), followSymlink: true);

        Assert.Equal(2, RandomAccess.GetLength(handle));
        Assert.Equal($"{Named("pipe-link")} is a named pipe, not a regular file", Assert.Throws<IOException>(() => RegularFileHandle.OpenForReading(Named("pipe-link"), followSymlink: true)).Message);
    }

    [Fact]
    public void A_held_file_copies_whole_into_a_new_file_of_the_given_mode_and_never_over_an_existing_one()
    {
        var data = RandomNumberGenerator.GetBytes((3 << 20) + 12345);
        File.WriteAllBytes(Named("point"), data);
        File.WriteAllText(Named("existing"), "keep me");
        File.CreateSymbolicLink(Named("dangling"), Named("nowhere"));
        using var handle = RegularFileHandle.OpenForReading(Named("point"));

        using (var copy = RegularFileHandle.CreateNew(Named("copy"), UnixFileMode.UserRead | UnixFileMode.UserWrite))
        {
            FileCopy.Into(handle, copy, Named("copy"));
        }

        Assert.Equal(data, File.ReadAllBytes(Named("copy")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Named("copy")));
        Assert.Equal($"{Named("existing")} exists already", Assert.Throws<IOException>(() => RegularFileHandle.CreateNew(Named("existing"), UnixFileMode.UserRead)).Message);
        Assert.Equal("keep me", File.ReadAllText(Named("existing")));
        // Not even through a symlink to nothing: the file would appear wherever it points.
        Assert.Throws<IOException>(() => RegularFileHandle.CreateNew(Named("dangling"), UnixFileMode.UserRead));
        Assert.False(File.Exists(Named("nowhere")));
    }

    [Fact]
    public void An_image_opens_through_a_symlink_but_a_pipe_or_a_character_device_is_refused_at_once()
    {
        File.WriteAllText(Named("disk.qcow2"), "QFI");
        File.CreateSymbolicLink(Named("disk-link"), Named("disk.qcow2"));
        MakeFifo(Named("pipe"));

        using var handle = RegularFileHandle.OpenImageForReading(Named("disk-link"));

        Assert.Equal(3, RandomAccess.GetLength(handle));
        Assert.Equal($"{Named("pipe")} is a named pipe, not a regular file or a block device", Assert.Throws<IOException>(() => RegularFileHandle.OpenImageForReading(Named("pipe"))).Message);
        Assert.Equal("/dev/null is a character device, not a regular file or a block device", Assert.Throws<IOException>(() => RegularFileHandle.OpenImageForReading("/dev/null")).Message);
    }
}
