using System.Runtime.InteropServices;

namespace OfflineExport.IO;

/// <summary>Asks the kernel whether a file could be written, without opening it: a read-only mount or an immutable file says no even to root.</summary>
public static partial class WriteAccess
{
    private const int WriteOk = 2; // W_OK

    /// <summary>Null when <paramref name="path"/> is writable, else the kernel's reason ("Read-only file system").</summary>
    public static string? WhyNot(string path) =>
        Access(path, WriteOk) == 0 ? null : Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
}
