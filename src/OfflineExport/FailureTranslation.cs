using OfflineExport.Nbd;
using OfflineExport.Processes;
using OfflineExport.Qemu;
using OfflineExport.Qmp;

namespace OfflineExport;

/// <summary>
/// The library's front door: every public operation (export, backup, restore, verify, info) runs
/// through <see cref="RunAsync{T}"/>, so what reaches a caller is an <see cref="OfflineExportException"/>
/// (or a cancellation), never a protocol's or a process runner's own exception. The layers that know
/// better (a lock error, a full disk, a dead daemon) translate first; this names the rest qemu failures.
/// </summary>
public static class FailureTranslation
{
    /// <summary>Runs <paramref name="operation"/>, translating a lower layer's failure.</summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (ToUserError(ex) is { } error)
        {
            throw error;
        }
    }

    /// <summary>The user-facing error for <paramref name="exception"/>, or null when it needs none (already one, a cancellation, or a bug).</summary>
    public static OfflineExportException? ToUserError(Exception exception) => exception switch
    {
        NbdException { IsNoSpace: true } => new(ErrorKind.OutputProblem, exception.Message, exception),
        NbdException or QmpException or QmpProtocolException or QemuImgException or CommandStalledException => new(ErrorKind.QemuFailure, exception.Message, exception),
        _ => null,
    };
}
