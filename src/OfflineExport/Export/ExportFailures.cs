using OfflineExport.Nbd;
using OfflineExport.Qemu;
using OfflineExport.Qmp;

namespace OfflineExport.Export;

/// <summary>
/// What a failure during an export's work in the daemon means, decided in one place: a lock qemu could
/// not take is a running VM; a full disk is the output's problem; a broken socket or monitor usually
/// means the daemon died a moment ago, and is then told in the daemon's own words (a command it refused
/// is not waited on: the refusal shows it alive).
/// </summary>
public static class ExportFailures
{
    /// <summary>How long a daemon whose socket broke may take to be seen dead.</summary>
    private static readonly TimeSpan DeathGrace = TimeSpan.FromSeconds(2);

    /// <summary>The error to report instead of <paramref name="failure"/>, or null to let it through as it is.</summary>
    /// <param name="failure">What the export's work in the daemon threw.</param>
    /// <param name="daemon">The daemon the work ran in.</param>
    /// <param name="image">The disk being exported.</param>
    /// <param name="partial">The partial output being written, or null for a dry run.</param>
    /// <param name="cancelled">True when the run was cancelled: a broken socket is then our own doing.</param>
    public static async Task<Exception?> TranslateAsync(Exception failure, StorageDaemon daemon, string image, string? partial, bool cancelled)
    {
        switch (failure)
        {
            case QmpException qmp when QemuImg.IsLockError(qmp.Description):
                return OfflineExportException.ImageInUse(image, qmp.Description);
            case NbdException { IsNoSpace: true } nbd when partial is not null:
                return new OfflineExportException(ErrorKind.OutputProblem,
                    $"no space left on the file system of {Path.GetDirectoryName(partial)}: the backup did not fit ({nbd.Message})", nbd);
            case QmpException when !cancelled:
                // The daemon answered, so it lived: told in its own words only if it has died since.
                return await daemon.HasDiedAsync(TimeSpan.Zero).ConfigureAwait(false) ? daemon.DescribeDeath(failure) : null;
            case NbdException or QmpProtocolException or IOException when !cancelled:
                return await daemon.HasDiedAsync(DeathGrace).ConfigureAwait(false) ? daemon.DescribeDeath(failure) : null;
            default:
                return null;
        }
    }
}
