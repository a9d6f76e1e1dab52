using System.Text.Json.Serialization;
using OfflineExport.Backup;

namespace OfflineExport.Export;

/// <summary>Source-generated JSON of the small records a run writes so the next run can clean up after it.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(WorkFolderRecord))]
[JsonSerializable(typeof(BackupRunRecord))]
internal sealed partial class RecordJsonContext : JsonSerializerContext;
