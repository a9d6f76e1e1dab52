using OfflineExport.Nbd;

namespace OfflineExport.Export;

/// <summary>
/// Before an incremental copies anything: has the previous backup exported read-only by the source daemon
/// (<see cref="BlockGraph.ExportPreviousAsync"/>), and asks <see cref="UntrackedChangeFinder"/> whether the disk changed where the merged
/// checkpoint did not look (metadata only), over the stretches the previous backup maps (<see cref="PreviousBackupMap"/>). If so, the incremental would be wrong and is refused.
/// </summary>
public static class UntrackedChangeCheck
{
    /// <summary>Throws <see cref="OfflineExportException"/> (<see cref="ErrorKind.UntrackedChange"/>) when the disk holds a change the checkpoints did not record.</summary>
    /// <param name="graph">The source daemon's block graph (its NBD server already started on <paramref name="socket"/>).</param>
    /// <param name="socket">The source daemon's NBD socket.</param>
    /// <param name="previous">The previous backup (a qcow2 whose chain was validated).</param>
    /// <param name="source">A connection to the source export with <c>base:allocation</c>.</param>
    /// <param name="dirty">A connection to the source export with <paramref name="dirtyContext"/>.</param>
    /// <param name="dirtyContext">The checkpoints' context (merged, or the one checkpoint itself).</param>
    /// <param name="checkpoints">The checkpoints' names, for the message.</param>
    /// <param name="size">The disk size (the previous backup's too: checked before).</param>
    /// <param name="replyTimeout">How long the connection may wait for a reply.</param>
    /// <param name="log">Receives how long the check took (--verbose), or null.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    public static async Task RunAsync(
        BlockGraph graph, string socket, PreviousBackup previous, IBlockSource source, IBlockSource dirty, string dirtyContext, IReadOnlyList<string> checkpoints, ulong size, TimeSpan? replyTimeout, Action<string>? log, CancellationToken cancellationToken)
    {
        await graph.ExportPreviousAsync(previous, cancellationToken).ConfigureAwait(false);
        var options = new NbdClientOptions { ExportName = BlockGraph.PreviousExport, MetaContexts = [NbdProtocol.BaseAllocationContext], MaxInFlight = ExtentScanner.Lookahead, ReplyTimeout = replyTimeout };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Only where some layer of the previous backup has clusters can it hold data.
        var stretches = PreviousBackupMap.StretchesToWalk(previous, size);
        ByteRange? found;
        await using (var client = await NbdClient.ConnectUnixAsync(socket, options, cancellationToken).ConfigureAwait(false))
        {
            found = await UntrackedChangeFinder.FindAsync(
                ExtentScanner.ScanAsync(client, NbdProtocol.BaseAllocationContext, stretches, cancellationToken),
                ExtentCursor.Over(source, NbdProtocol.BaseAllocationContext, size),
                ExtentCursor.Over(dirty, dirtyContext, size),
                size,
                cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        }

        log?.Invoke($"untracked-change check: {(found is null ? "none" : "found")} in {clock.Elapsed.TotalMilliseconds:F0} ms, over {stretches.Aggregate(0UL, (sum, s) => sum + s.Length)} bytes the previous backup maps of {size}");
        if (found is { } range)
        {
            throw new OfflineExportException(ErrorKind.UntrackedChange, Describe(range, previous.Path, checkpoints) + Advice);
        }
    }

    /// <summary>What the refusal of a single export ends with (a backup run makes the full point itself).</summary>
    public const string Advice = ": take a full export";

    /// <summary>What was found, without the advice.</summary>
    public static string Describe(ByteRange range, string previous, IReadOnlyList<string> checkpoints) =>
        $"the disk reads as zeroes at offset {range.Offset} ({range.Length} bytes) where the previous backup {previous} holds data, and checkpoint {string.Join(", ", checkpoints)} did not record that change (was the disk shrunk and grown again?); an incremental would keep the old data there";
}
