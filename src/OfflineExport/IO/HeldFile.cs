using Microsoft.Win32.SafeHandles;

namespace OfflineExport.IO;

/// <summary>
/// A name under which a child process (same user) opens again a file we hold open: <c>/proc/PID/fd/N</c>
/// leads to the file behind our descriptor, not to whatever its old name leads to by then.
/// </summary>
public static class HeldFile
{
    /// <summary>The procfs name of <paramref name="handle"/>'s file, valid while the handle is open.</summary>
    public static string Name(SafeFileHandle handle) => $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}";
}
