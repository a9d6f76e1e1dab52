namespace OfflineExport.Qemu;

/// <summary>qemu-storage-daemon could not be started or did not answer in time.</summary>
public sealed class StorageDaemonException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageDaemonException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
