using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Win32.SafeHandles;
using OfflineExport.IO;
using OfflineExport.Processes;

namespace OfflineExport.Qemu;

/// <summary>Typed calls of <c>qemu-img</c>. The working folder is the image's folder so relative names resolve as qemu expects.</summary>
public sealed class QemuImg
{
    /// <summary>Paths stay as they are in the json: names qemu-img echoes back in its messages and in --verbose logs.</summary>
    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _executable;
    private readonly Action<string>? _log;
    private readonly TimeSpan? _progressTimeout;

    /// <summary>Creates a wrapper for the qemu-img at <paramref name="executable"/>.</summary>
    /// <param name="executable">The qemu-img program.</param>
    /// <param name="log">Receives a line per run, or null.</param>
    /// <param name="progressTimeout">How long a run may show no activity before it is killed (null: never).</param>
    public QemuImg(string executable, Action<string>? log = null, TimeSpan? progressTimeout = null)
    {
        _executable = executable;
        _log = log;
        _progressTimeout = progressTimeout;
    }

    /// <summary>
    /// Reads the whole chain, top first, with <c>info --backing-chain --output=json -U</c>. <c>-U</c>
    /// reads images held by other processes too; <see cref="QemuImageLocks.RefuseIfHeldForWriting"/> checks the lock.
    /// </summary>
    /// <param name="image">The top image.</param>
    /// <param name="format">The top's format as stated ("raw", "qcow2"), or null to let qemu probe it.
    /// Probing trusts the file's first bytes, which a guest writes in a raw disk.</param>
    /// <param name="cancellationToken">Stops (kills) qemu-img.</param>
    public async Task<IReadOnlyList<ImageInfo>> GetBackingChainAsync(string image, string? format, CancellationToken cancellationToken)
    {
        List<string> args = ["info", "--backing-chain", "--output=json", "-U"];
        if (format is not null)
        {
            args.AddRange(["-f", format]);
        }

        args.Add(image);
        var result = await RunAsync(args, image, cancellationToken).ConfigureAwait(false);
        // Which layers hold nothing at all: an incremental may cross an empty external snapshot (ChainValidator).
        return QemuJson.ParseChain(result.StandardOutput)
            .Select(layer => layer.Format == "qcow2" && Path.IsPathRooted(layer.Filename) && FileIdentity.Of(layer.Filename)?.Kind == FileKind.Regular
                ? layer with { HoldsNoClusters = Qcow2Header.HoldsNoClusters(layer.Filename) }
                : layer)
            .ToList();
    }

    /// <summary>
    /// Opens <paramref name="image"/> with every layer of its chain as a copy would, and reads only where its
    /// first byte comes from (<c>map --max-length=1</c>): a layer that cannot be opened fails here, before
    /// anything is written. Unlike <c>info</c>, which opens layers one by one, it takes a <c>json:</c>
    /// description's own backing layers.
    /// </summary>
    public async Task OpenChainAsync(string image, string format, string pathForFolder, CancellationToken cancellationToken) =>
        await RunAsync(["map", "--output=json", "--max-length=1", "-f", format, image], pathForFolder, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The format qemu would guess for <paramref name="image"/> from its first bytes. Reads the top only
    /// (no backing file is opened), to compare a recorded format with what the file now looks like.
    /// </summary>
    public async Task<string> ProbeFormatAsync(string image, CancellationToken cancellationToken)
    {
        var result = await RunAsync(["info", "--output=json", "-U", image], image, cancellationToken).ConfigureAwait(false);
        return QemuJson.ParseChain(result.StandardOutput)[0].Format;
    }

    /// <summary>
    /// Runs <c>qemu-img check</c> on the qcow2 layer <paramref name="layer"/> alone: opened through a
    /// <c>json:</c> description with <c>backing: null</c>, so each layer of a chain is judged by itself and
    /// no backing file is opened. Never repairs (read-only, <c>-U</c>).
    /// </summary>
    /// <param name="layer">The layer's file.</param>
    /// <param name="cancellationToken">Kills qemu-img.</param>
    /// <param name="dataFile">Its external data file (<see cref="ImageInfo.DataFilePath"/>), named to qemu-img; null: none.</param>
    public Task<ImageCheckResult> CheckQcow2Async(string layer, CancellationToken cancellationToken, string? dataFile = null) =>
        CheckQcow2Async(layer, Protocol(layer), layer, cancellationToken, dataFile);

    /// <summary>
    /// <see cref="CheckQcow2Async(string, CancellationToken, string)"/> of a regular file we hold open: qemu-img reads it
    /// through our descriptor (<see cref="HeldFile.Name"/>), whatever is at <paramref name="shownAs"/> by then;
    /// its messages name <paramref name="shownAs"/>.
    /// </summary>
    public Task<ImageCheckResult> CheckQcow2Async(SafeFileHandle held, string shownAs, CancellationToken cancellationToken) =>
        CheckQcow2Async(HeldFile.Name(held), "file", shownAs, cancellationToken);

    private async Task<ImageCheckResult> CheckQcow2Async(string layer, string protocol, string shownAs, CancellationToken cancellationToken, string? dataFile = null)
    {
        var description = new JsonObject
        {
            ["driver"] = "qcow2",
            ["backing"] = null,
            ["file"] = new JsonObject { ["driver"] = protocol, ["filename"] = layer },
        };
        if (dataFile is not null)
        {
            description["data-file"] = new JsonObject { ["driver"] = Protocol(dataFile), ["filename"] = dataFile };
        }

        var name = JsonName(description);
        var result = await RunUncheckedAsync(["check", "-U", "--output=json", name], shownAs, cancellationToken).ConfigureAwait(false);
        ImageCheckReport? report = null;
        if (result.StandardOutput.TrimStart().StartsWith('{'))
        {
            try
            {
                report = QemuJson.ParseCheck(result.StandardOutput);
            }
            catch (JsonException)
            {
                // The exit code still tells what happened; the counts only add detail.
            }
        }

        var lines = result.StandardError.Replace(name, shownAs, StringComparison.Ordinal).Replace(layer, shownAs, StringComparison.Ordinal)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // The first ERROR line names the first broken structure; without one, qemu-img's own complaint.
        var first = lines.FirstOrDefault(l => l.StartsWith("ERROR", StringComparison.Ordinal))
            ?? lines.LastOrDefault(l => l.StartsWith("qemu-img: ", StringComparison.Ordinal))?["qemu-img: ".Length..];
        return new ImageCheckResult(result.ExitCode, report, first);
    }

    /// <summary>The <c>json:</c> pseudo-file name of <paramref name="description"/>, with its paths unescaped as qemu-img echoes them.</summary>
    public static string JsonName(JsonObject description) => "json:" + description.ToJsonString(ReadableJson);

    /// <summary>The protocol driver that reads <paramref name="path"/>: the file driver refuses block devices, and host_device is the same reader for them.</summary>
    public static string Protocol(string path) => FileIdentity.Of(path)?.Kind == FileKind.BlockDevice ? "host_device" : "file";

    /// <summary>True when qemu's error text says a lock is held by someone else.</summary>
    public static bool IsLockError(string text) =>
        text.Contains("Failed to get shared \"write\" lock", StringComparison.Ordinal)
        || text.Contains("Failed to get \"write\" lock", StringComparison.Ordinal)
        || text.Contains("Is another process using the image", StringComparison.Ordinal);

    /// <summary>
    /// Compares the guest-visible contents of two images (<c>qemu-img compare</c>, never strict).
    /// Exit 0: identical, 1: different, 2+: error (see ARCHITECTURE.md).
    /// </summary>
    /// <param name="first">The first image (its folder is qemu-img's working folder).</param>
    /// <param name="firstFormat">Its format.</param>
    /// <param name="second">The second image.</param>
    /// <param name="secondFormat">Its format.</param>
    /// <param name="cancellationToken">Kills qemu-img.</param>
    /// <param name="progress">Receives the fraction compared, as qemu-img's <c>-p</c> reports it; null for none.</param>
    /// <param name="secondShownAs">How messages name <paramref name="second"/> when it is a <c>json:</c> description; null: as it is.</param>
    public async Task<CompareResult> CompareAsync(string first, string firstFormat, string second, string secondFormat, CancellationToken cancellationToken, Action<double>? progress = null, string? secondShownAs = null)
    {
        var result = await RunUncheckedAsync(["compare", "-f", firstFormat, "-F", secondFormat, first, second], first, cancellationToken, progress: progress).ConfigureAwait(false);
        var message = TextTail.LastLines(QemuProgressOutput.WithoutProgress(result.StandardOutput) + "\n" + result.StandardError, 2);
        if (secondShownAs is not null)
        {
            message = message.Replace(second, secondShownAs, StringComparison.Ordinal);
        }

        return new CompareResult(result.ExitCode, message);
    }

    /// <summary>Adds a persistent, enabled dirty bitmap to <paramref name="image"/> (opens it read-write: fails on a running VM's image). Runs to its end (<see cref="WriteIntoSourceAsync"/>).</summary>
    public async Task AddBitmapAsync(string image, string format, string name) =>
        await WriteIntoSourceAsync(["bitmap", "--add", "--enable", "-f", format, image, name], image).ConfigureAwait(false);

    /// <summary>Removes the dirty bitmap <paramref name="name"/> from <paramref name="image"/>. Runs to its end (<see cref="WriteIntoSourceAsync"/>).</summary>
    public async Task RemoveBitmapAsync(string image, string format, string name) =>
        await WriteIntoSourceAsync(["bitmap", "--remove", "-f", format, image, name], image).ConfigureAwait(false);

    /// <summary>
    /// Removes the dirty bitmap <paramref name="name"/> from <paramref name="image"/>'s top if it is there (read first with
    /// <see cref="GetBackingChainAsync"/>: an add that failed may have written nothing); true when it removed one.
    /// </summary>
    public async Task<bool> RemoveBitmapIfPresentAsync(string image, string format, string name, CancellationToken cancellationToken)
    {
        var chain = await GetBackingChainAsync(image, format, cancellationToken).ConfigureAwait(false);
        if (!chain[0].Bitmaps.Any(b => b.Name == name))
        {
            return false;
        }

        await RemoveBitmapAsync(image, format, name).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Copies the guest-visible contents of <paramref name="source"/> (with its whole chain) into a new
    /// standalone qcow2 <paramref name="output"/>, keeping it sparse, created with <paramref name="createOptions"/>
    /// (<c>-o</c>, e.g. a cluster size) when given.
    /// </summary>
    public async Task ConvertToQcow2Async(string source, string sourceFormat, string output, CancellationToken cancellationToken, Action<double>? progress = null, string? createOptions = null) =>
        await RunAsync(
            createOptions is null
                ? ["convert", "-f", sourceFormat, "-O", "qcow2", source, output]
                : ["convert", "-f", sourceFormat, "-O", "qcow2", "-o", createOptions, source, output],
            output,
            cancellationToken,
            progress: progress).ConfigureAwait(false);

    /// <summary>
    /// Puts <paramref name="image"/> on <paramref name="backing"/> (a name relative to the image's folder, as
    /// recorded) in qemu-img's safe mode: every cluster whose content would change with the new backing is
    /// first written into the image, so the image reads exactly as before. Reads only where the old chain
    /// differs from the new one when the new backing is part of the old chain. Zeroes it writes become zero
    /// clusters (<c>detect-zeroes=on</c>), as they were in the layers they came from: written as data, they
    /// would look like data a later incremental's untracked-change check must distrust.
    /// </summary>
    public async Task RebaseAsync(string image, string format, string backing, string backingFormat, CancellationToken cancellationToken, Action<double>? progress = null)
    {
        // qemu's option syntax doubles a comma inside a value.
        var options = $"driver={format},file.driver=file,file.filename={Path.GetFullPath(image).Replace(",", ",,", StringComparison.Ordinal)},detect-zeroes=on";
        await RunAsync(["rebase", "--image-opts", options, "-b", backing, "-F", backingFormat], image, cancellationToken, progress: progress).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a qemu-img that writes into a source image to its end, whatever happens to this run: while qemu-img holds
    /// the image open for writing, every bitmap in it is marked in use, so one killed half way leaves all of them
    /// unusable (libvirt's checkpoints too) and may leak clusters. It runs in a session of its own, where no terminal's
    /// Ctrl-C or hang-up reaches it, is not tied to this process (a killed run leaves it finishing), and no cancellation
    /// kills it: the caller sees a cancellation at its next step. Only a stall (no I/O or CPU for the progress timeout)
    /// ends it early. It takes milliseconds: it writes a bitmap's header, not its data.
    /// </summary>
    private async Task WriteIntoSourceAsync(IReadOnlyList<string> args, string image)
    {
        try
        {
            await RunAsync(args, image, CancellationToken.None, tiedToParent: false).ConfigureAwait(false);
        }
        catch (QemuImgException ex) when (IsLockError(ex.StandardError))
        {
            throw OfflineExportException.ImageInUse(image, TextTail.LastLines(ex.StandardError, 1));
        }
    }

    /// <summary>Runs qemu-img and requires exit code 0 (<see cref="QemuImgException"/> otherwise).</summary>
    private async Task<BufferedCommandResult> RunAsync(IReadOnlyList<string> args, string pathForFolder, CancellationToken cancellationToken, bool tiedToParent = true, Action<double>? progress = null)
    {
        var result = await RunUncheckedAsync(args, pathForFolder, cancellationToken, tiedToParent, progress).ConfigureAwait(false);
        return result.ExitCode == 0 ? result : throw new QemuImgException(result.ExitCode, result.StandardError);
    }

    /// <summary>
    /// Runs qemu-img in the folder of <paramref name="pathForFolder"/> (in <c>/</c> for a <c>json:</c>
    /// description, which this tool writes with absolute names only). Tied to this process: a killed
    /// offline-export leaves no qemu-img reading on. The calls that write into a source image (bitmap)
    /// are not, so they never stop half way.
    /// </summary>
    private async Task<BufferedCommandResult> RunUncheckedAsync(IReadOnlyList<string> args, string pathForFolder, CancellationToken cancellationToken, bool tiedToParent = true, Action<double>? progress = null)
    {
        var command = Cli.Wrap(_executable)
            .WithArguments(progress is null ? args : [args[0], "-p", .. args.Skip(1)])
            .WithWorkingDirectory(pathForFolder.StartsWith("json:", StringComparison.Ordinal) ? "/" : Path.GetDirectoryName(Path.GetFullPath(pathForFolder))!);
        if (progress is not null)
        {
            // Read as it comes; the buffered result still gets the whole output.
            command = command.WithStandardOutputPipe(PipeTarget.Create((stream, token) => QemuProgressOutput.ReadAsync(stream, progress, token)));
        }

        try
        {
            // Untied runs are the writes into a source image, started in their own session (WriteIntoSourceAsync).
            return await ChildProcess.RunBufferedAsync(command, new ProcessSettings(_log, _progressTimeout, tiedToParent, OwnSession: !tiedToParent), cancellationToken).ConfigureAwait(false);
        }
        catch (CommandNotFoundException ex)
        {
            throw OfflineExportException.ToolMissing(_executable, QemuTools.QemuImgPackage, "cannot be run: " + ex.Reason);
        }
    }
}
