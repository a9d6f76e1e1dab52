using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>The one rule for a <c>qemu-img compare</c> that must prove an output: identical, or an error that says which way it failed.</summary>
public static class Verification
{
    /// <summary>Returns when <paramref name="compare"/> found the images identical; otherwise throws VerificationFailed.</summary>
    /// <param name="compare">The comparison's result.</param>
    /// <param name="differs">What a difference means, e.g. "the backup differs from /vm/vda.qcow2".</param>
    public static void RequireIdentical(CompareResult compare, string differs)
    {
        if (compare.Different)
        {
            throw new OfflineExportException(ErrorKind.VerificationFailed, $"verification failed: {differs}: {compare.Message}");
        }

        if (!compare.Identical)
        {
            // Nothing was compared: qemu-img failed, as verify reports it too.
            throw new OfflineExportException(ErrorKind.QemuFailure, $"verification could not run (qemu-img compare exit code {compare.ExitCode}): {compare.Message}");
        }
    }
}
