using System.Text;
using System.Text.Json.Nodes;
using OfflineExport.Qmp;

namespace OfflineExport.Tests.Qmp;

public class QmpCodecTests
{
    [Fact]
    public void Command_is_one_json_object_with_execute_arguments_and_id_ending_in_a_newline()
    {
        // Arrange
        var arguments = new JsonObject { ["id"] = "exp0", ["node-name"] = "top", ["writable"] = false };

        // Act
        var bytes = QmpCodec.EncodeCommand("oe-7", "block-export-add", arguments);

        // Assert
        var text = Encoding.UTF8.GetString(bytes);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", text[..^1], StringComparison.Ordinal);
        var message = Assert.IsType<JsonObject>(JsonNode.Parse(text));
        Assert.Equal(3, message.Count);
        Assert.Equal("block-export-add", (string?)message["execute"]);
        Assert.Equal("oe-7", (string?)message["id"]);
        Assert.True(JsonNode.DeepEquals(arguments, message["arguments"]));
    }

    [Fact]
    public void Command_without_arguments_has_no_arguments_member()
    {
        var bytes = QmpCodec.EncodeCommand("oe-1", "qmp_capabilities", null);

        var message = Assert.IsType<JsonObject>(JsonNode.Parse(Encoding.UTF8.GetString(bytes)));
        Assert.False(message.ContainsKey("arguments"));
        Assert.Equal("qmp_capabilities", (string?)message["execute"]);
        Assert.Equal("oe-1", (string?)message["id"]);
    }

    [Fact]
    public void Command_is_valid_utf8_for_non_ascii_arguments()
    {
        var bytes = QmpCodec.EncodeCommand("oe-2", "blockdev-add", new JsonObject { ["filename"] = "/srv/vm/disque-é.qcow2" });

        var message = JsonNode.Parse(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes))!;
        Assert.Equal("/srv/vm/disque-é.qcow2", (string?)message["arguments"]!["filename"]);
    }

    [Fact]
    public void Same_arguments_object_can_be_encoded_twice()
    {
        var arguments = new JsonObject { ["id"] = "exp0" };

        var first = QmpCodec.EncodeCommand("oe-1", "block-export-del", arguments);
        var second = QmpCodec.EncodeCommand("oe-2", "block-export-del", arguments);

        Assert.Equal("exp0", (string?)JsonNode.Parse(Encoding.UTF8.GetString(second))!["arguments"]!["id"]);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Command_name_must_not_be_empty()
    {
        Assert.ThrowsAny<ArgumentException>(() => QmpCodec.EncodeCommand("oe-1", string.Empty, null));
    }

    [Fact]
    public void Greeting_yields_version_and_capabilities()
    {
        var line = """{"QMP": {"version": {"qemu": {"micro": 1, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}""";

        var message = QmpCodec.Decode(line);

        var greeting = Assert.IsType<QmpGreeting>(message);
        Assert.Equal("7.2.1", greeting.Version);
        Assert.Equal(["oob"], greeting.Capabilities);
    }

    [Fact]
    public void Return_yields_its_id_and_value()
    {
        var line = """{"return": [{"id": "exp0", "node-name": "top"}], "id": "oe-3"}""";

        var message = QmpCodec.Decode(line);

        var reply = Assert.IsType<QmpReturn>(message);
        Assert.Equal("oe-3", reply.Id);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"id": "exp0", "node-name": "top"}]"""), reply.Value));
    }

    [Fact]
    public void Return_without_id_has_a_null_id()
    {
        var reply = Assert.IsType<QmpReturn>(QmpCodec.Decode("""{"return": {}}"""));

        Assert.Null(reply.Id);
        Assert.True(JsonNode.DeepEquals(new JsonObject(), reply.Value));
    }

    [Fact]
    public void Numeric_id_is_kept_as_its_json_text()
    {
        var reply = Assert.IsType<QmpReturn>(QmpCodec.Decode("""{"return": {}, "id": 42}"""));

        Assert.Equal("42", reply.Id);
    }

    [Fact]
    public void Error_yields_id_class_and_description()
    {
        var line = """{"id": "oe-4", "error": {"class": "DeviceNotFound", "desc": "Cannot find device='nope' nor node-name='nope'"}}""";

        var message = QmpCodec.Decode(line);

        var error = Assert.IsType<QmpErrorReply>(message);
        Assert.Equal("oe-4", error.Id);
        Assert.Equal("DeviceNotFound", error.ErrorClass);
        Assert.Equal("Cannot find device='nope' nor node-name='nope'", error.Description);
    }

    [Fact]
    public void Event_yields_name_data_and_timestamp()
    {
        // Arrange: 1700000000 s after the epoch is 2023-11-14 22:13:20 UTC.
        var line = """{"timestamp": {"seconds": 1700000000, "microseconds": 123456}, "event": "BLOCK_EXPORT_DELETED", "data": {"id": "exp0"}}""";

        // Act
        var message = QmpCodec.Decode(line);

        // Assert
        var ev = Assert.IsType<QmpEvent>(message);
        Assert.Equal("BLOCK_EXPORT_DELETED", ev.Name);
        Assert.Equal("exp0", (string?)ev.Data?["id"]);
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero).AddMicroseconds(123456), ev.Timestamp);
    }

    [Fact]
    public void Event_without_data_has_null_data()
    {
        var line = """{"timestamp": {"seconds": 1, "microseconds": 0}, "event": "SHUTDOWN"}""";

        var ev = Assert.IsType<QmpEvent>(QmpCodec.Decode(line));

        Assert.Equal("SHUTDOWN", ev.Name);
        Assert.Null(ev.Data);
    }

    [Theory]
    [InlineData("""{"return": {}""")]
    [InlineData("not json")]
    [InlineData("")]
    public void Malformed_json_is_a_protocol_error(string line)
    {
        Assert.Throws<QmpProtocolException>(() => QmpCodec.Decode(line));
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"return\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Json_that_is_not_an_object_is_a_protocol_error(string line)
    {
        Assert.Throws<QmpProtocolException>(() => QmpCodec.Decode(line));
    }

    [Fact]
    public void Object_that_is_no_known_message_is_a_protocol_error()
    {
        Assert.Throws<QmpProtocolException>(() => QmpCodec.Decode("""{"hello": "world", "id": "oe-1"}"""));
    }

    [Theory]
    [InlineData("""{"event": 5}""")]
    [InlineData("""{"error": {"class": 1, "desc": "x"}}""")]
    [InlineData("""{"event": "X", "timestamp": {"seconds": "soon"}}""")]
    public void Known_message_with_wrong_field_types_is_a_protocol_error(string line)
    {
        Assert.Throws<QmpProtocolException>(() => QmpCodec.Decode(line));
    }
}
