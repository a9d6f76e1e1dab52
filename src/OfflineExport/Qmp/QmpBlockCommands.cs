using System.Text.Json.Nodes;

namespace OfflineExport.Qmp;

/// <summary>Typed wrappers of the QMP commands the export uses (qemu 7.2 schema).</summary>
public static class QmpBlockCommands
{
    /// <summary><c>blockdev-add</c> with the given options object.</summary>
    public static Task BlockdevAddAsync(this QmpClient qmp, JsonObject options, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("blockdev-add", options, cancellationToken);

    /// <summary>
    /// Adds a non-persistent, disabled bitmap <paramref name="name"/> on <paramref name="node"/> and merges
    /// <paramref name="sources"/> into it, in one <c>transaction</c> so both happen or neither.
    /// Disabled because a read-only NBD export refuses an enabled bitmap; never persistent because the
    /// node is read-only.
    /// </summary>
    public static Task AddMergedBitmapAsync(this QmpClient qmp, string node, string name, int granularity, IEnumerable<(string Node, string Name)> sources, CancellationToken cancellationToken)
    {
        var bitmaps = new JsonArray();
        foreach (var (sourceNode, sourceName) in sources)
        {
            bitmaps.Add((JsonNode)new JsonObject { ["node"] = sourceNode, ["name"] = sourceName });
        }

        // The params constructor, not a collection initializer: Add<T> would need reflection.
        var actions = new JsonArray(
            new JsonObject
            {
                ["type"] = "block-dirty-bitmap-add",
                ["data"] = new JsonObject
                {
                    ["node"] = node,
                    ["name"] = name,
                    ["granularity"] = granularity,
                    ["persistent"] = false,
                    ["disabled"] = true,
                },
            },
            new JsonObject
            {
                ["type"] = "block-dirty-bitmap-merge",
                ["data"] = new JsonObject { ["node"] = node, ["target"] = name, ["bitmaps"] = bitmaps },
            });
        return qmp.ExecuteAsync("transaction", new JsonObject { ["actions"] = actions }, cancellationToken);
    }

    /// <summary><c>nbd-server-start</c> on a unix socket (qemu 7.2 takes the legacy SocketAddress form).</summary>
    public static Task NbdServerStartAsync(this QmpClient qmp, string socketPath, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync(
            "nbd-server-start",
            new JsonObject
            {
                ["addr"] = new JsonObject { ["type"] = "unix", ["data"] = new JsonObject { ["path"] = socketPath } },
            },
            cancellationToken);

    /// <summary><c>block-export-add</c> of an NBD export named like its id, with optional dirty bitmaps.</summary>
    public static Task BlockExportAddNbdAsync(this QmpClient qmp, string id, string node, bool writable, IReadOnlyList<string> bitmaps, CancellationToken cancellationToken)
    {
        var arguments = new JsonObject
        {
            ["type"] = "nbd",
            ["id"] = id,
            ["node-name"] = node,
            ["name"] = id,
            ["writable"] = writable,
        };
        if (bitmaps.Count > 0)
        {
            arguments["bitmaps"] = new JsonArray([.. bitmaps.Select(b => (JsonNode)JsonValue.Create(b))]);
        }

        return qmp.ExecuteAsync("block-export-add", arguments, cancellationToken);
    }
}
