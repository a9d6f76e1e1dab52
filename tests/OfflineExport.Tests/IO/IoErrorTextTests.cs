using OfflineExport.IO;

namespace OfflineExport.Tests.IO;

public sealed class IoErrorTextTests
{
    [Fact]
    public void Drops_the_path_tail_dotnet_appends()
    {
        var error = new IOException("No space left on device : '/backups/vm/manifest.json.1a2b3c4d.tmp'");

        Assert.Equal("No space left on device", IoErrorText.Reason(error));
    }

    [Fact]
    public void Keeps_a_message_without_a_tail()
    {
        Assert.Equal("Read-only file system", IoErrorText.Reason(new IOException("Read-only file system")));
    }

    [Fact]
    public void Access_denied_reads_as_permission_denied_without_the_type_name()
    {
        var error = new UnauthorizedAccessException("Access to the path '/backups/vm' is denied.");

        Assert.Equal("permission denied", IoErrorText.Reason(error));
    }
}
