using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using OfflineExport.Export;
using OfflineExport.IO;
using OfflineExport.Qemu;

namespace OfflineExport.Backup;

/// <summary>
/// The files of a point's chain, opened once and held for as long as a restore or a forget reads them.
/// They are examined, checksummed and handed to qemu through these same open files (<c>/proc/PID/fd/N</c>,
/// each layer backed by the next by our description, not by its header), so a point swapped in the folder
/// after its checks changes nothing that is read: without this, whoever can write into the folder could
/// swap in a header that names a host file, and the restore would copy that file's content. A file someone
/// else could rewrite in place is refused, since holding it does not stop that.
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
        QemuName = "json:" + Layers(0).ToJsonString(ReadableJson);
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
    /// <exception cref="OfflineExportException">DamagedPoint, naming the first damaged file of the chain;
    /// BackupFolderProblem for a file another user owns or may write.</exception>
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
                PointFiles.RequireOnlyOursCanChange(handle, folder, disk, point, member, use);
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

    /// <summary>
    /// The layout for one file that holds what this whole chain reads (<see cref="OutputLayout"/>): as fine as
    /// the finest of its files, so that zero runs the points hold as zero subclusters stay zero. Null when a header
    /// cannot be read, and qemu-img's default is then used.
    /// </summary>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public OutputLayout? MergedLayout()
    {
        var layouts = _members.Select(m => Qcow2Header.ClusterLayout(m.Handle)).ToList();
        return layouts.Any(l => l is null)
            ? null
            : OutputLayout.For(
                layouts[0]!.Value.ClusterSize,
                layouts.Select(l => OutputLayout.ZeroGranularity(ImageFormats.Qcow2, l!.Value.ClusterSize, l.Value.ExtendedL2)));
    }

    /// <summary>Refuses the chain unless every held file has its recorded checksum; returns how many had one.</summary>
    /// <exception cref="OfflineExportException">DamagedPoint, naming the file whose content changed.</exception>
    public async Task<int> RequireChecksumsAsync(DiskRecord disk, string use, CancellationToken cancellationToken)
    {
        if (await FirstChecksumProblemAsync(Count, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            throw PointFiles.Damaged(disk, _members[0].Point, problem.Member, use, problem.What);
        }

        return _members.Count(m => m.Point.FileSha256 is not null);
    }

    /// <summary>The first of the top <paramref name="count"/> held files whose content is not what its checksum recorded, and what is wrong; null when none.</summary>
    public async Task<(PointRecord Member, string What)?> FirstChecksumProblemAsync(int count, CancellationToken cancellationToken)
    {
        foreach (var (member, handle) in _members.Take(count))
        {
            if (await PointFiles.ChecksumProblemAsync(member, handle, cancellationToken).ConfigureAwait(false) is { } what)
            {
                return (member, what);
            }
        }

        return null;
    }

    /// <summary>Copies the point's own file, as it was checked, into the empty open file <paramref name="destination"/> (named <paramref name="name"/> in errors).</summary>
    /// <exception cref="IOException">It cannot be written.</exception>
    public void CopyPointInto(SafeFileHandle destination, string name) => FileCopy.Into(_members[0].Handle, destination, name);

    /// <summary>The point of member <paramref name="index"/> of the chain (0: the point itself, then its backing, …).</summary>
    public PointRecord PointAt(int index) => _members[index].Point;

    /// <summary>The permissions of the point's own file.</summary>
    public UnixFileMode PointFileMode() => File.GetUnixFileMode(_members[0].Handle);

    /// <summary>qemu's <paramref name="text"/> with the chain's description and the held files' names replaced by the points' file names.</summary>
    public string Readable(string text) => Readable(text, null);

    /// <summary>
    /// <see cref="Readable(string)"/>, and also for <paramref name="over"/>: a file held beside the chain, its
    /// description (<see cref="QemuNameOver"/>) and the name to show for both.
    /// </summary>
    public string Readable(string text, (SafeFileHandle File, string QemuName, string Path)? over)
    {
        var files = _members.Select(m => (Handle: m.Handle, Path: Path.Combine(_folder, m.Point.File))).ToList();
        if (over is { } other)
        {
            text = text.Replace(other.QemuName, other.Path, StringComparison.Ordinal);
            files.Add((other.File, other.Path));
        }

        text = text.Replace(QemuName, files[0].Path, StringComparison.Ordinal);
        // Highest descriptor first: /proc/1/fd/1 is a prefix of /proc/1/fd/12.
        foreach (var (handle, path) in files.OrderByDescending(f => f.Handle.DangerousGetHandle()))
        {
            text = text.Replace(HeldFile.Name(handle), path, StringComparison.Ordinal);
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

    /// <summary>
    /// Another qcow2 file we hold (a merged copy of the point), described for qemu as <see cref="QemuName"/> is:
    /// over that open file, backed by the held chain from member <paramref name="backingMember"/> down, or by
    /// nothing when it is null.
    /// </summary>
    public string QemuNameOver(SafeFileHandle file, int? backingMember) =>
        "json:" + Layer(file, backingMember is { } from ? Layers(from) : null).ToJsonString(ReadableJson);

    // The held layers from member `from` down (0: the point itself), each a qcow2 over its held file, backed by the next.
    private JsonObject Layers(int from) => Layer(_members[from].Handle, from + 1 < _members.Count ? Layers(from + 1) : null);

    private static JsonObject Layer(SafeFileHandle file, JsonObject? backing) => new()
    {
        ["driver"] = "qcow2",
        ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = HeldFile.Name(file) },
        ["backing"] = backing,
    };
}
