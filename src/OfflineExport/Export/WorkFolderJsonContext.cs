using System.Text.Json.Serialization;

namespace OfflineExport.Export;

/// <summary>Source-generated JSON of the record an export writes in its work folder so the next run can clean up after it.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(WorkFolderRecord))]
internal sealed partial class WorkFolderJsonContext : JsonSerializerContext;
