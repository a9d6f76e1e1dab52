using OfflineExport.Qemu;

namespace OfflineExport.Export;

/// <summary>One validated layer of the source chain.</summary>
/// <param name="Index">0 for the top (active) layer, counting down the chain.</param>
/// <param name="Path">Absolute path of the layer's file.</param>
/// <param name="Format">"qcow2" or "raw", as recorded (never probed) for every layer below the top.</param>
/// <param name="Info">What qemu-img reported.</param>
/// <param name="NodePrefix">What its QMP node names start with: "layer" for the source, another prefix for a second chain in the same daemon.</param>
public sealed record ChainLayer(int Index, string Path, string Format, ImageInfo Info, string NodePrefix = ChainLayer.SourcePrefix)
{
    /// <summary>The node-name prefix of the source chain's layers.</summary>
    public const string SourcePrefix = "layer";

    /// <summary>QMP node name of the format node.</summary>
    public string NodeName => $"{NodePrefix}{Index}";

    /// <summary>QMP node name of the protocol (file) node under it.</summary>
    public string FileNodeName => $"{NodePrefix}{Index}-file";

    /// <summary>QMP node name of its external data file's protocol node.</summary>
    public string DataFileNodeName => $"{NodePrefix}{Index}-data";

    /// <summary>The absolute path of the layer's external data file, or null (<see cref="ImageInfo.DataFilePath"/>).</summary>
    public string? DataFilePath => Info.DataFilePath;
}
