using System.Text.Json;
using System.Text.Json.Serialization;

namespace OfflineExport.IO;

/// <summary>An enum as its camelCase name ("full", "incremental"); a type source-generated JSON can name in its options.</summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase)
    where TEnum : struct, Enum;
