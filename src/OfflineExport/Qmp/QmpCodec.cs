using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OfflineExport.Qmp;

/// <summary>
/// Pure encoding and decoding of QMP messages. QMP is one JSON object per line in each
/// direction (QEMU's qmp-spec: commands carry "execute", optional "arguments" and "id").
/// </summary>
public static class QmpCodec
{
    /// <summary>Encodes a command as one line of UTF-8 JSON, newline included.</summary>
    public static byte[] EncodeCommand(string id, string command, JsonObject? arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        var message = new JsonObject { ["execute"] = command };
        if (arguments is not null)
        {
            message["arguments"] = arguments.DeepClone();
        }

        message["id"] = id;
        return Encoding.UTF8.GetBytes(message.ToJsonString() + "\n");
    }

    /// <summary>Decodes one line received from the server.</summary>
    /// <exception cref="QmpProtocolException">The line is not a QMP message.</exception>
    public static QmpMessage Decode(string line)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new QmpProtocolException($"QMP: malformed JSON from server: {Shorten(line)}", ex);
        }

        if (node is not JsonObject message)
        {
            throw new QmpProtocolException($"QMP: expected a JSON object, got: {Shorten(line)}");
        }

        try
        {
            return DecodeObject(message, line);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new QmpProtocolException($"QMP: unexpected field types in: {Shorten(line)}", ex);
        }
    }

    private static QmpMessage DecodeObject(JsonObject message, string line)
    {
        var id = message["id"] is JsonValue idValue ? IdToString(idValue) : null;

        if (message.TryGetPropertyValue("return", out var returned))
        {
            return new QmpReturn(id, returned?.DeepClone());
        }

        if (message["error"] is JsonObject error)
        {
            var errorClass = error["class"]?.GetValue<string>() ?? "GenericError";
            var description = error["desc"]?.GetValue<string>() ?? "(no description)";
            return new QmpErrorReply(id, errorClass, description);
        }

        if (message["event"] is JsonValue eventName)
        {
            var timestamp = DateTimeOffset.UnixEpoch;
            if (message["timestamp"] is JsonObject ts)
            {
                var seconds = ts["seconds"]?.GetValue<long>() ?? 0;
                var micros = ts["microseconds"]?.GetValue<long>() ?? 0;
                timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
            }

            return new QmpEvent(eventName.GetValue<string>(), message["data"] as JsonObject, timestamp);
        }

        if (message["QMP"] is JsonObject greeting)
        {
            var v = greeting["version"]?["qemu"];
            var version = v is null
                ? "unknown"
                : $"{v["major"]?.GetValue<int>()}.{v["minor"]?.GetValue<int>()}.{v["micro"]?.GetValue<int>()}";
            var capabilities = greeting["capabilities"] is JsonArray caps
                ? caps.Select(c => c?.GetValue<string>() ?? string.Empty).ToArray()
                : [];
            return new QmpGreeting(version, capabilities);
        }

        throw new QmpProtocolException($"QMP: unknown message: {Shorten(line)}");
    }

    private static string IdToString(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

    private static string Shorten(string line) => line.Length <= 200 ? line : line[..200] + "…";
}
