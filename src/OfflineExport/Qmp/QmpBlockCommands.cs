using System.Text.Json.Nodes;

namespace OfflineExport.Qmp;

/// <summary>Typed wrappers of the QMP commands the export uses (qemu 7.2 schema).</summary>
public static class QmpBlockCommands
{
    /// <summary><c>blockdev-add</c> with the given options object.</summary>
    public static Task BlockdevAddAsync(this QmpClient qmp, JsonObject options, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("blockdev-add", options, cancellationToken);

    /// <summary>
    /// <c>blockdev-create</c>, a job: waited for until it concludes (at most <paramref name="timeout"/>), then
    /// dismissed. The job's own error, which its command's return does not carry, fails it as a <see cref="QmpException"/>.
    /// </summary>
    /// <exception cref="QmpException">The daemon refused the command or the job failed.</exception>
    /// <exception cref="QmpProtocolException">The job did not conclude in time, or the connection broke.</exception>
    public static async Task BlockdevCreateAsync(this QmpClient qmp, string jobId, JsonObject options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await qmp.ExecuteAsync("blockdev-create", new JsonObject { ["job-id"] = jobId, ["options"] = options }, cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // Events are queued from the connection's start, so one that came before the return is not missed.
            while (true)
            {
                var change = await qmp.WaitForEventAsync("JOB_STATUS_CHANGE", deadline.Token).ConfigureAwait(false);
                if ((string?)change.Data?["id"] == jobId && (string?)change.Data?["status"] == "concluded")
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QmpProtocolException($"QMP: blockdev-create did not finish within {timeout.TotalSeconds:0.#} s", ex);
        }

        var jobs = await qmp.ExecuteAsync("query-jobs", null, cancellationToken).ConfigureAwait(false) as JsonArray;
        var error = (string?)jobs?.FirstOrDefault(job => (string?)job?["id"] == jobId)?["error"];
        await qmp.ExecuteAsync("job-dismiss", new JsonObject { ["id"] = jobId }, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            throw new QmpException("blockdev-create", "GenericError", error);
        }
    }

    /// <summary>
    /// Adds a non-persistent, disabled bitmap <paramref name="name"/> on <paramref name="node"/> and merges
    /// <paramref name="sources"/> into it, in one <c>transaction</c> so both happen or neither.
    /// Disabled: nothing may record into it while it is exported (qemu refuses an enabled bitmap for a
    /// read-only export only on a writable node, so this is our rule, not qemu's); never persistent
    /// because the node is read-only.
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
