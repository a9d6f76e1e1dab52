using System.Runtime.InteropServices;

namespace OfflineExport.IO;

/// <summary>The user this process acts as (its effective user id), to tell files others could change.</summary>
public static partial class CurrentUser
{
    /// <summary>The effective user id.</summary>
    public static uint Id => GetEffectiveUserId();

    /// <summary>
    /// Why someone other than this user (or root) could change the file while it is read, or null when nobody
    /// can: another owner can rewrite it in place, and so can its group or anyone when it is writable by them.
    /// </summary>
    public static string? OthersCanChange(FileIdentity file) =>
        file.OwnerId != Id && file.OwnerId != 0 ? $"it belongs to user id {file.OwnerId}, not to this user (id {Id}) or root"
        : (file.Permissions & UnixFileMode.OtherWrite) != 0 ? "anyone may write it"
        : (file.Permissions & UnixFileMode.GroupWrite) != 0 ? "its group may write it"
        : null;

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
