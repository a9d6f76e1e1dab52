using System.Runtime.InteropServices;

namespace OfflineExport.IO;

/// <summary>The flags of open(2) this code passes itself, where .NET's own file APIs offer no way to ask for them.</summary>
internal static class OpenFlags
{
    public const int ReadOnly = 0;
    public const int ReadWrite = 2;
    public const int Create = 0x40;
    public const int Exclusive = 0x80; // O_EXCL: with O_CREAT, fails on anything there, a symlink included
    public const int NonBlocking = 0x800; // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer
    public const int CloseOnExec = 0x80000;

    /// <summary>O_NOFOLLOW, which differs between Linux architectures; a symlink at the last step then fails with ELOOP.</summary>
    public static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
}
