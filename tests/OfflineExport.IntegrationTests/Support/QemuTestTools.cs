using System.Security.Cryptography;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;

namespace OfflineExport.IntegrationTests.Support;

/// <summary>Runs the real qemu-img and qemu-io to build and inspect test images. A missing binary fails the test.</summary>
public static class QemuTestTools
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs qemu-img with <paramref name="args"/>; throws with stderr on a non-zero exit.</summary>
    public static async Task<string> ImgAsync(params string[] args)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var result = await CliWrap.Cli.Wrap("qemu-img").WithArguments(args).ExecuteBufferedAsync(cts.Token);
        return result.StandardOutput;
    }

    /// <summary>Runs qemu-img and returns its exit code and output without validation.</summary>
    public static async Task<BufferedCommandResult> ImgUncheckedAsync(params string[] args)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await CliWrap.Cli.Wrap("qemu-img").WithArguments(args).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cts.Token);
    }

    /// <summary>Runs any program (mount, chattr, …) and fails on a non-zero exit.</summary>
    public static async Task RunProgramAsync(string program, params string[] args)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await CliWrap.Cli.Wrap(program).WithArguments(args).ExecuteBufferedAsync(cts.Token);
    }

    /// <summary>Makes a named pipe (FIFO) at <paramref name="path"/>: qemu-img would wait on it for ever.</summary>
    public static Task MakeFifoAsync(string path) => RunProgramAsync("mkfifo", path);

    /// <summary>Runs qemu-io commands (e.g. "write -P 0x11 0 1M") on a qcow2 <paramref name="image"/>.</summary>
    public static Task IoAsync(string image, params string[] commands) => IoWithFormatAsync(image, "qcow2", commands);

    /// <summary>Runs qemu-io commands on <paramref name="image"/> of <paramref name="format"/>.</summary>
    public static async Task IoWithFormatAsync(string image, string format, params string[] commands)
    {
        List<string> args = ["-f", format];
        foreach (var command in commands)
        {
            args.AddRange(["-c", command]);
        }

        args.Add(image);
        using var cts = new CancellationTokenSource(Timeout);
        var result = await CliWrap.Cli.Wrap("qemu-io").WithArguments(args).ExecuteBufferedAsync(cts.Token);
        // qemu-io reports failed commands on stdout and still exits 0.
        if (result.StandardOutput.Contains("failed", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"qemu-io failed: {result.StandardOutput}");
        }
    }

    /// <summary>Creates a qcow2 image of <paramref name="size"/> (qemu-img size syntax), optionally over a backing file.</summary>
    public static Task CreateQcow2Async(string path, string size, string? backing = null, int clusterSize = 65536)
    {
        List<string> args = ["create", "-q", "-f", "qcow2", "-o", $"cluster_size={clusterSize}"];
        if (backing is not null)
        {
            args.AddRange(["-b", backing, "-F", "qcow2"]);
        }

        args.AddRange([path, size]);
        return ImgAsync([.. args]);
    }

    /// <summary>Creates a qcow2 overlay on <paramref name="backing"/> (size taken from the backing file).</summary>
    public static Task CreateOverlayAsync(string path, string backing) =>
        ImgAsync("create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", path);

    /// <summary>Adds an enabled persistent bitmap (a checkpoint) to <paramref name="image"/>.</summary>
    public static Task AddBitmapAsync(string image, string name) =>
        ImgAsync("bitmap", "--add", "--enable", image, name);

    /// <summary>Runs qemu-img compare; returns its exit code (0 identical).</summary>
    public static async Task<int> CompareAsync(string first, string second, string secondFormat = "qcow2")
    {
        var result = await ImgUncheckedAsync("compare", "-f", "qcow2", "-F", secondFormat, first, second);
        return result.ExitCode;
    }

    /// <summary>Runs qemu-img check; returns its exit code (0 clean, 3 leaks only).</summary>
    public static async Task<int> CheckAsync(string image)
    {
        var result = await ImgUncheckedAsync("check", "-f", "qcow2", image);
        return result.ExitCode;
    }

    /// <summary>The extents of <paramref name="image"/>'s own (top) layer that hold data or zero clusters.</summary>
    public static async Task<IReadOnlyList<MapEntry>> TopLayerMapAsync(string image)
    {
        var json = await ImgAsync("map", "--output=json", "-f", "qcow2", image);
        var entries = JsonSerializer.Deserialize<List<MapEntry>>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true }) ?? [];
        return entries.Where(e => e.Depth == 0 && e.Present).ToList();
    }

    /// <summary>Bytes of data clusters in <paramref name="image"/>'s top layer.</summary>
    public static async Task<long> TopLayerDataBytesAsync(string image) =>
        (await TopLayerMapAsync(image)).Where(e => e.Data).Sum(e => e.Length);

    /// <summary>The qemu-img info JSON of one image.</summary>
    public static async Task<JsonElement> InfoAsync(string image)
    {
        var json = await ImgAsync("info", "--output=json", "-U", image);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    /// <summary>The names of the persistent dirty bitmaps in the top layer of <paramref name="image"/> (qcow2).</summary>
    public static async Task<IReadOnlyList<string>> BitmapNamesAsync(string image)
    {
        var data = (await InfoAsync(image)).GetProperty("format-specific").GetProperty("data");
        return data.TryGetProperty("bitmaps", out var bitmaps) ? bitmaps.EnumerateArray().Select(b => b.GetProperty("name").GetString()!).ToList() : [];
    }

    /// <summary>SHA-256 of what the guest reads from <paramref name="image"/>: unchanged by a checkpoint added and removed again.</summary>
    public static async Task<string> GuestSha256Async(string image)
    {
        var flat = image + ".guest.raw";
        await ImgAsync("convert", "-U", "-O", "raw", image, flat);
        try
        {
            return Sha256(flat);
        }
        finally
        {
            File.Delete(flat);
        }
    }

    /// <summary>SHA-256 of a file's bytes, to prove a source was not modified.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    /// <summary>Checksums of several files.</summary>
    public static IReadOnlyList<string> Sha256All(params string[] paths) => paths.Select(Sha256).ToList();
}
