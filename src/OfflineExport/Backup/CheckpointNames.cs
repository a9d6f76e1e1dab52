using System.Globalization;
using System.Text.RegularExpressions;

namespace OfflineExport.Backup;

/// <summary>
/// Names of the checkpoints (bitmaps) this tool creates: "offline-export-1a2b3c4d-20261122T013000Z", the
/// middle part being the creating backup folder's tag (<see cref="FolderRecord.Tag"/>), so two folders never
/// make the same name. Older versions made "offline-export-20261122T013000Z" (no tag).
/// </summary>
public static partial class CheckpointNames
{
    /// <summary>Every checkpoint this tool creates starts with this.</summary>
    public const string Prefix = "offline-export-";

    /// <summary>Hex digits of the folder id in a name.</summary>
    public const int TagLength = 8;

    /// <summary>A new name for <paramref name="now"/> that none of <paramref name="taken"/> uses, tagged with <paramref name="folderTag"/> (null: untagged, as before folders had ids).</summary>
    public static string Create(DateTimeOffset now, string? folderTag, IEnumerable<string> taken)
    {
        var used = taken.ToHashSet(StringComparer.Ordinal);
        var name = Prefix + (folderTag is null ? string.Empty : folderTag + "-") + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var candidate = name;
        for (var i = 2; used.Contains(candidate); i++)
        {
            candidate = $"{name}-{i}";
        }

        return candidate;
    }

    /// <summary>A new untagged name (as made before folders had ids).</summary>
    public static string Create(DateTimeOffset now, IEnumerable<string> taken) => Create(now, null, taken);

    /// <summary>True for names this tool creates.</summary>
    public static bool IsOwn(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The folder tag in <paramref name="name"/>, or null for an untagged (older) name or a name this tool did not make.</summary>
    public static string? TagOf(string name) => Tagged().Match(name) is { Success: true } match ? match.Groups[1].Value : null;

    /// <summary>
    /// True when <paramref name="name"/> is a checkpoint the folder <paramref name="folder"/> made: tagged with
    /// its id, or untagged in a folder that was never copied (an untagged name predates the ids, and only the
    /// original folder may count it as its own). With no folder record, every name of this tool (as before).
    /// </summary>
    public static bool BelongsTo(string name, FolderRecord? folder)
    {
        if (!IsOwn(name))
        {
            return false;
        }

        if (folder is null)
        {
            return true;
        }

        return TagOf(name) is { } tag ? tag == folder.Tag : folder.CopiedFrom.Count == 0;
    }

    [GeneratedRegex(@"\Aoffline-export-([0-9a-f]{8})-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\z")]
    private static partial Regex Tagged();
}
