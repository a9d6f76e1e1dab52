using OfflineExport.Export;

namespace OfflineExport.Tests.Export;

/// <summary>A partial output is this run's own file, from its creation to the rename that publishes it.</summary>
public sealed class PartialOutputTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("oe-partial-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void A_created_partial_is_published_under_the_output_s_name()
    {
        var output = Path.Combine(_folder.FullName, "vda.0.qcow2");
        using var partial = PartialOutput.For(output);

        partial.CreateEmpty();
        partial.Publish(overwrite: false);

        Assert.True(File.Exists(output));
        Assert.False(File.Exists(partial.Path));
    }

    [Fact]
    public void The_partial_is_held_open_from_its_creation_until_it_is_published()
    {
        // Held so that the publish's fsync goes through a descriptor older than any write-back of the daemon's.
        var output = Path.Combine(_folder.FullName, "vda.0.qcow2");
        using var partial = PartialOutput.For(output);

        partial.CreateEmpty();
        var heldWhileWritten = OpenDescriptorsOf(partial.Path);
        partial.Publish(overwrite: false);

        Assert.Equal(1, heldWhileWritten);
        Assert.Equal(0, OpenDescriptorsOf(output));
    }

    [Fact]
    public void An_unpublished_partial_is_let_go_and_deleted()
    {
        var output = Path.Combine(_folder.FullName, "vda.0.qcow2");
        var partial = PartialOutput.For(output);
        partial.CreateEmpty();
        var path = partial.Path;

        partial.Dispose();

        Assert.False(File.Exists(path));
        Assert.Equal(0, OpenDescriptorsOf(path));
    }

    [Fact]
    public void An_existing_file_under_the_temporary_name_is_never_taken_over()
    {
        var output = Path.Combine(_folder.FullName, "vda.0.qcow2");
        using var partial = PartialOutput.For(output);
        File.WriteAllText(partial.Path, "someone else's");

        var error = Assert.Throws<OfflineExportException>(partial.CreateEmpty);

        Assert.Equal(ErrorKind.OutputProblem, error.Kind);
        Assert.Equal("someone else's", File.ReadAllText(partial.Path));
    }

    [Fact]
    public void A_partial_replaced_by_a_symlink_is_not_published()
    {
        // Arrange: after the daemon is gone, another writer of the folder puts a symlink to a decoy in its place.
        var output = Path.Combine(_folder.FullName, "vda.0.qcow2");
        var decoy = Path.Combine(_folder.FullName, "decoy");
        File.WriteAllText(decoy, "decoy");
        using var partial = PartialOutput.For(output);
        partial.CreateEmpty();
        File.Delete(partial.Path);
        File.CreateSymbolicLink(partial.Path, decoy);

        // Act
        var error = Assert.Throws<OfflineExportException>(() => partial.Publish(overwrite: false));

        // Assert
        Assert.Equal(ErrorKind.OutputProblem, error.Kind);
        Assert.Contains("is no longer the file this run created", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Equal("decoy", File.ReadAllText(decoy));
    }

    /// <summary>This process's descriptors that lead to <paramref name="path"/> (a deleted file's link ends in " (deleted)").</summary>
    private static int OpenDescriptorsOf(string path) =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(fd => { try { return fd.LinkTarget; } catch (IOException) { return null; } })
            .Count(target => target is not null && target.StartsWith(path, StringComparison.Ordinal));
}
