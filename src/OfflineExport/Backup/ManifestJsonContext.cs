using System.Text.Json.Serialization;
using OfflineExport.IO;

namespace OfflineExport.Backup;

/// <summary>
/// Source-generated JSON of manifest.json (no reflection, so the native binary reads it): camelCase,
/// point levels as lower-case words, indented.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    Converters = [typeof(CamelCaseEnumConverter<PointLevel>)])]
[JsonSerializable(typeof(BackupManifest))]
[JsonSerializable(typeof(IReadOnlyList<DiskRecord>))]
public sealed partial class ManifestJsonContext : JsonSerializerContext;
