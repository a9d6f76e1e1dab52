using OfflineExport.IO;

namespace OfflineExport.Tests.IO;

/// <summary>Advisory locks taken without following a symlink: a lock file swapped for one never makes a file elsewhere.</summary>
public sealed class LockFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("oe-lock-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Named(string name) => Path.Combine(_root, name);

    [Fact]
    public void An_exclusive_lock_excludes_every_other_and_shared_locks_share()
    {
        using (var first = LockFile.TryTake(Named("lock"), exclusive: true, create: true))
        {
            Assert.NotNull(first);
            Assert.Null(LockFile.TryTake(Named("lock"), exclusive: true, create: true));
            Assert.Null(LockFile.TryTake(Named("lock"), exclusive: false, create: false));
        }

        using var reader = LockFile.TryTake(Named("lock"), exclusive: false, create: true);
        using var another = LockFile.TryTake(Named("lock"), exclusive: false, create: false);
        Assert.NotNull(reader);
        Assert.NotNull(another);
        Assert.Null(LockFile.TryTake(Named("lock"), exclusive: true, create: true));
    }

    [Fact]
    public void A_lock_file_that_is_a_symlink_is_refused_and_its_target_never_made()
    {
        File.CreateSymbolicLink(Named("lock"), Named("made-elsewhere"));

        var refusal = Assert.Throws<IOException>(() => LockFile.TryTake(Named("lock"), exclusive: true, create: true));

        Assert.Equal($"{Named("lock")} is a symlink", refusal.Message);
        Assert.False(File.Exists(Named("made-elsewhere")));
    }
}
