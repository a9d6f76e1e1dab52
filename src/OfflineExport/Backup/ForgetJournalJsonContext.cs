using System.Text.Json.Serialization;

namespace OfflineExport.Backup;

/// <summary>Source-generated JSON of the journal a forget run keeps in its folder, so the next run can finish or undo a killed one.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ForgetJournal))]
internal sealed partial class ForgetJournalJsonContext : JsonSerializerContext;
