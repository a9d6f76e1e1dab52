using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Processes;

namespace OfflineExport.Tests.Export;

public sealed class StaleWorkFoldersTests : IDisposable
{
    private readonly string _parent = Directory.CreateTempSubdirectory("oe-stale-").FullName;

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    private static ProcessIdentity Dead => ProcessIdentity.Current with { StartTicks = ProcessIdentity.Current.StartTicks + 1 };

    private string Folder(string name, WorkFolderRecord? record, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)
    {
        var path = Directory.CreateDirectory(Path.Combine(_parent, name)).FullName;
        record?.Save(path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void Folder_of_a_run_that_is_gone_is_removed_with_its_partial_output()
    {
        using var own = PrivateDirectory.Create(_parent);
        var partial = Path.Combine(_parent, "out.qcow2.0123abcd.partial");
        File.WriteAllText(partial, "half");
        var stale = Folder("offline-export-0000stale01", new WorkFolderRecord { Owner = Dead, Partial = partial });

        var notes = StaleWorkFolders.CleanUp(_parent, own.Path);

        var note = Assert.Single(notes);
        Assert.Contains($"its work folder {stale}", note, StringComparison.Ordinal);
        Assert.Contains($"its partial output {partial}", note, StringComparison.Ordinal);
        Assert.False(Directory.Exists(stale));
        Assert.False(File.Exists(partial));
        Assert.True(Directory.Exists(own.Path));
    }

    [Fact]
    public void Folders_of_live_runs_without_a_record_or_not_private_are_left_alone()
    {
        using var own = PrivateDirectory.Create(_parent);
        var live = Folder("offline-export-0000live001", new WorkFolderRecord { Owner = ProcessIdentity.Current });
        var unrecorded = Folder("offline-export-0000norec01", null);
        var open = Folder("offline-export-0000open001", new WorkFolderRecord { Owner = Dead }, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var other = Folder("someone-else", new WorkFolderRecord { Owner = Dead });

        Assert.Empty(StaleWorkFolders.CleanUp(_parent, own.Path));
        Assert.All([live, unrecorded, open, other], f => Assert.True(Directory.Exists(f)));
    }

    [Theory]
    [InlineData("not-a-partial.qcow2")]
    [InlineData("out.qcow2.partial")]
    [InlineData("out.qcow2.ZZZZZZZZ.partial")]
    public void A_recorded_partial_is_removed_only_when_named_as_the_tool_names_partials(string name)
    {
        using var own = PrivateDirectory.Create(_parent);
        var file = Path.Combine(_parent, name);
        File.WriteAllText(file, "keep me");
        var stale = Folder("offline-export-0000stale02", new WorkFolderRecord { Owner = Dead, Partial = file });

        var note = Assert.Single(StaleWorkFolders.CleanUp(_parent, own.Path));

        Assert.DoesNotContain("partial output", note, StringComparison.Ordinal);
        Assert.True(File.Exists(file));
        Assert.False(Directory.Exists(stale));
    }

    [Fact]
    public void A_symlink_named_like_a_work_folder_is_not_followed()
    {
        using var own = PrivateDirectory.Create(_parent);
        var target = Folder("target", new WorkFolderRecord { Owner = Dead });
        File.CreateSymbolicLink(Path.Combine(_parent, "offline-export-0000link001"), target);

        Assert.Empty(StaleWorkFolders.CleanUp(_parent, own.Path));
        Assert.True(Directory.Exists(target));
    }
}
