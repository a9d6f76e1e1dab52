using OfflineExport.IO;

namespace OfflineExport.Tests.IO;

public sealed class FileIdentityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oe-id-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_folder_s_birth_time_is_when_it_was_made_and_a_copy_is_born_later()
    {
        // ext4, as on this project's machines (statx btime); a copy is a new folder, whatever its inode.
        var before = DateTimeOffset.UtcNow.AddSeconds(-2).ToUnixTimeMilliseconds() * 1_000_000;
        var folder = Directory.CreateDirectory(Path.Combine(_root, "web1")).FullName;
        Thread.Sleep(20);
        var copy = Directory.CreateDirectory(Path.Combine(_root, "web1-copy")).FullName;

        var born = FileIdentity.Of(folder)!.BirthTime;
        var copyBorn = FileIdentity.Of(copy)!.BirthTime;

        Assert.NotNull(born);
        Assert.InRange(born!.Value, before, before + 60_000_000_000L);
        Assert.True(copyBorn > born, $"{copyBorn} after {born}");
        Assert.Equal(born, FileIdentity.Of(folder)!.BirthTime);
    }

    [Fact]
    public void A_symlink_and_a_hard_link_name_the_same_file()
    {
        var file = Path.Combine(_root, "disk.qcow2");
        File.WriteAllBytes(file, new byte[4096]);
        var link = Path.Combine(_root, "link.qcow2");
        File.CreateSymbolicLink(link, file);
        var folderLink = Path.Combine(_root, "folder-link");
        Directory.CreateSymbolicLink(folderLink, _root);

        Assert.True(FileIdentity.AreSameFile(file, link));
        Assert.True(FileIdentity.AreSameFile(file, Path.Combine(folderLink, "disk.qcow2")));
        Assert.Equal(FileKind.Regular, FileIdentity.Of(link)!.Kind);
        Assert.Equal(FileKind.Symlink, FileIdentity.OfLink(link)!.Kind);
        Assert.Equal(4096, FileIdentity.Of(file)!.Size);
    }

    [Fact]
    public void Two_files_with_the_same_content_are_different_files()
    {
        var first = Path.Combine(_root, "a");
        var second = Path.Combine(_root, "b");
        File.WriteAllText(first, "x");
        File.WriteAllText(second, "x");

        Assert.False(FileIdentity.AreSameFile(first, second));
        Assert.False(FileIdentity.AreSameFile(first, Path.Combine(_root, "missing")));
    }

    [Fact]
    public void Missing_paths_have_no_identity_and_kinds_are_told_apart()
    {
        Assert.Null(FileIdentity.Of(Path.Combine(_root, "missing")));
        Assert.Null(FileIdentity.Of(Path.Combine(_root, "missing", "below")));
        Assert.Equal(FileKind.Directory, FileIdentity.Of(_root)!.Kind);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of("/dev/null")!.Kind);
    }
}
