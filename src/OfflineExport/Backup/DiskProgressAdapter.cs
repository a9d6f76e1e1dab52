using OfflineExport.Export;

namespace OfflineExport.Backup;

/// <summary>Turns one disk's export progress into <see cref="DiskProgress"/> for the whole run.</summary>
internal sealed class DiskProgressAdapter(IProgress<DiskProgress> inner, string disk, int index, int count) : IProgress<ExportProgress>
{
    public void Report(ExportProgress value) => inner.Report(new DiskProgress(disk, index, count, value));
}
