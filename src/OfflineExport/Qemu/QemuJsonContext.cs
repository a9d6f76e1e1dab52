using System.Text.Json.Serialization;

namespace OfflineExport.Qemu;

/// <summary>
/// Source-generated (de)serializers for qemu-img's JSON: kebab-case names, unknown fields ignored.
/// Generated rather than reflected because reflection warm-up cost ~40 ms on every run, before the first byte.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.KebabCaseLower)]
[JsonSerializable(typeof(List<ImageInfo>))]
[JsonSerializable(typeof(ImageInfo))]
[JsonSerializable(typeof(ImageCheckReport))]
internal sealed partial class QemuJsonContext : JsonSerializerContext;
