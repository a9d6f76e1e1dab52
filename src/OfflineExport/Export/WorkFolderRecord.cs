using System.Text.Json;
using OfflineExport.Processes;

namespace OfflineExport.Export;

/// <summary>
/// What a run keeps in its private work folder so that, if it is killed, the next run can tell the folder
/// is stale (its owner no longer runs) and remove what it left: the folder and the partial output.
/// </summary>
public sealed record WorkFolderRecord
{
    /// <summary>The record's file name inside the work folder.</summary>
    public const string FileName = "run.json";

    /// <summary>The run that owns the folder.</summary>
    public required ProcessIdentity Owner { get; init; }

    /// <summary>The partial output this run writes (written here before the file is created), or null.</summary>
    public string? Partial { get; init; }

    /// <summary>Writes the record into <paramref name="folder"/> (replacing it in one rename).</summary>
    public void Save(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, WorkFolderJsonContext.Default.WorkFolderRecord));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The record in <paramref name="folder"/>, or null when there is none or it cannot be read.</summary>
    public static WorkFolderRecord? TryLoad(string folder)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(folder, FileName)), WorkFolderJsonContext.Default.WorkFolderRecord);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
