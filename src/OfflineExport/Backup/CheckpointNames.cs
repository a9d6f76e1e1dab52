using System.Globalization;

namespace OfflineExport.Backup;

/// <summary>Names of the checkpoints (bitmaps) this tool creates: "offline-export-20261122T013000Z".</summary>
public static class CheckpointNames
{
    /// <summary>Every checkpoint this tool creates starts with this.</summary>
    public const string Prefix = "offline-export-";

    /// <summary>A new name for <paramref name="now"/> that none of <paramref name="taken"/> uses.</summary>
    public static string Create(DateTimeOffset now, IEnumerable<string> taken)
    {
        var used = taken.ToHashSet(StringComparer.Ordinal);
        var name = Prefix + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var candidate = name;
        for (var i = 2; used.Contains(candidate); i++)
        {
            candidate = $"{name}-{i}";
        }

        return candidate;
    }

    /// <summary>True for names this tool creates.</summary>
    public static bool IsOwn(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);
}
