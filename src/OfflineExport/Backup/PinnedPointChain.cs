using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// The files of a point's chain, opened once and held for as long as a restore reads them. They are
/// examined, checksummed and handed to qemu through these same open files (<c>/proc/PID/fd/N</c>, each
/// layer backed by the next by our description, not by its header), so a point swapped in the folder
/// after its checks changes nothing that is read: without this, whoever can write into the folder could
/// swap in a header that names a host file, and the restore would copy that file's content.
/// </summary>
public sealed class PinnedPointChain : IDisposable
{
    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _folder;
    private readonly IReadOnlyList<(PointRecord Point, SafeFileHandle Handle)> _members;

    private PinnedPointChain(string folder, IReadOnlyList<(PointRecord, SafeFileHandle)> members)
    {
        _folder = folder;
        _members = members;
        QemuName = "json:" + Describe(0).ToJsonString(ReadableJson);
    }

    /// <summary>How many files the chain has, the point's own included.</summary>
    public int Count => _members.Count;

    /// <summary>
    /// The chain as qemu opens it: a <c>json:</c> description of qcow2 layers over the held files, top
    /// first, the full point with no backing at all.
    /// </summary>
    public string QemuName { get; }

    /// <summary>
    /// Opens and examines (<see cref="PointFiles.OpenExamined"/>) every file of <paramref name="point"/>'s chain.
    /// </summary>
    /// <exception cref="OfflineExportException">DamagedPoint, naming the first damaged file of the chain.</exception>
    public static PinnedPointChain Open(string folder, DiskRecord disk, PointRecord point, string use)
    {
        var members = new List<(PointRecord, SafeFileHandle)>();
        try
        {
            foreach (var member in PointFiles.ChainOf(disk, point))
            {
                var (handle, what) = PointFiles.OpenExamined(folder, disk, member);
                if (handle is null)
                {
                    throw PointFiles.Damaged(disk, point, member, use, what!);
                }

                members.Add((member, handle));
            }

            return new PinnedPointChain(folder, members);
        }
        catch
        {
            members.ForEach(m => m.Item2.Dispose());
            throw;
        }
    }

    /// <summary>The size of the disk, from the point's own header.</summary>
    public long VirtualSize() => Qcow2Header.VirtualSize(_members[0].Handle);

    /// <summary>Refuses the chain unless every held file has its recorded checksum; returns how many had one.</summary>
    /// <exception cref="OfflineExportException">DamagedPoint, naming the file whose content changed.</exception>
    public async Task<int> RequireChecksumsAsync(DiskRecord disk, string use, CancellationToken cancellationToken)
    {
        var verified = 0;
        foreach (var (member, handle) in _members)
        {
            if (await PointFiles.ChecksumProblemAsync(member, handle, cancellationToken).ConfigureAwait(false) is { } what)
            {
                throw PointFiles.Damaged(disk, _members[0].Point, member, use, what);
            }

            verified += member.FileSha256 is null ? 0 : 1;
        }

        return verified;
    }

    /// <summary>qemu's <paramref name="text"/> with the chain's description and the held files' names replaced by the points' file names.</summary>
    public string Readable(string text)
    {
        text = text.Replace(QemuName, Path.Combine(_folder, _members[0].Point.File), StringComparison.Ordinal);
        // Deepest first: /proc/1/fd/1 is a prefix of /proc/1/fd/12.
        foreach (var (member, handle) in _members.OrderByDescending(m => m.Handle.DangerousGetHandle()))
        {
            text = text.Replace(HeldName(handle), Path.Combine(_folder, member.File), StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>Closes the held files.</summary>
    public void Dispose()
    {
        foreach (var (_, handle) in _members)
        {
            handle.Dispose();
        }
    }

    // Our own descriptor, opened again by qemu-img (same user) through procfs: the same file, not the same name.
    private static string HeldName(SafeFileHandle handle) => $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}";

    private JsonObject Describe(int index) => new()
    {
        ["driver"] = "qcow2",
        ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = HeldName(_members[index].Handle) },
        ["backing"] = index + 1 < _members.Count ? Describe(index + 1) : null,
    };
}
