using OfflineExport.Qemu;

namespace OfflineExport.Tests.Export;

/// <summary>Builds <see cref="ImageInfo"/> test data shaped like <c>qemu-img info --backing-chain</c> output.</summary>
internal static class ChainBuilder
{
    public const string TopPath = "/var/lib/vm/top.qcow2";
    public const string MidPath = "/var/lib/vm/mid.qcow2";
    public const string BasePath = "/var/lib/vm/base.qcow2";
    public const string RawBasePath = "/var/lib/vm/base.raw";

    public const long DiskSize = 10L * 1024 * 1024 * 1024;
    public const long DefaultGranularity = 65536;

    /// <summary>An enabled, consistent bitmap (flags: auto).</summary>
    public static BitmapInfo Bitmap(string name, long granularity = DefaultGranularity) =>
        new() { Name = name, Granularity = granularity, Flags = ["auto"] };

    /// <summary>A bitmap with exactly the given flags.</summary>
    public static BitmapInfo BitmapWithFlags(string name, params string[] flags) =>
        new() { Name = name, Granularity = DefaultGranularity, Flags = flags };

    /// <summary>A qcow2 layer; like qemu, no "bitmaps" key at all when there are none.</summary>
    public static ImageInfo Qcow2(string path, params BitmapInfo[] bitmaps) => new()
    {
        Filename = path,
        Format = "qcow2",
        VirtualSize = DiskSize,
        ActualSize = 200704,
        ClusterSize = 65536,
        DirtyFlag = false,
        FormatSpecific = new ImageFormatSpecific
        {
            Type = "qcow2",
            Data = new Qcow2FormatData
            {
                Compat = "1.1",
                Bitmaps = bitmaps.Length == 0 ? null : bitmaps,
                Corrupt = false,
            },
        },
    };

    /// <summary>A raw layer: no format-specific data.</summary>
    public static ImageInfo Raw(string path) => new()
    {
        Filename = path,
        Format = "raw",
        VirtualSize = DiskSize,
        ActualSize = 1052672,
        DirtyFlag = false,
    };

    /// <summary>An image of any format, e.g. "vmdk".</summary>
    public static ImageInfo OfFormat(string path, string format) => new()
    {
        Filename = path,
        Format = format,
        VirtualSize = DiskSize,
    };

    /// <summary>The same layer, marked corrupt by qemu.</summary>
    public static ImageInfo MarkCorrupt(ImageInfo layer) => layer with
    {
        FormatSpecific = layer.FormatSpecific! with
        {
            Data = layer.FormatSpecific.Data! with { Corrupt = true },
        },
    };

    /// <summary>The same layer, encrypted with <paramref name="scheme"/> ("luks", "aes").</summary>
    public static ImageInfo Encrypt(ImageInfo layer, string scheme) => layer with
    {
        Encrypted = true,
        FormatSpecific = layer.FormatSpecific! with
        {
            Data = layer.FormatSpecific.Data! with { Encrypt = new Qcow2Encryption { Format = scheme } },
        },
    };

    /// <summary>Links every layer to the next as its backing file (name relative, format recorded), top first.</summary>
    public static List<ImageInfo> Chain(params ImageInfo[] topFirst)
    {
        var chain = new List<ImageInfo>(topFirst.Length);
        for (var i = 0; i < topFirst.Length; i++)
        {
            var layer = topFirst[i];
            if (i + 1 < topFirst.Length)
            {
                var backing = topFirst[i + 1];
                layer = layer with
                {
                    BackingFilename = Path.GetFileName(backing.Filename),
                    FullBackingFilename = backing.Filename,
                    BackingFilenameFormat = backing.Format,
                };
            }

            chain.Add(layer);
        }

        return chain;
    }
}
