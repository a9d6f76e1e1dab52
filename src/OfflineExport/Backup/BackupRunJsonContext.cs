using System.Text.Json.Serialization;

namespace OfflineExport.Backup;

/// <summary>Source-generated JSON of the record a backup run writes in its folder so the next run can undo what a killed one left.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BackupRunRecord))]
internal sealed partial class BackupRunJsonContext : JsonSerializerContext;
