namespace OfflineExport.Qemu;

/// <summary>The "format-specific" object of <c>qemu-img info</c>.</summary>
public sealed record ImageFormatSpecific
{
    /// <summary>The format it describes, e.g. "qcow2".</summary>
    public string? Type { get; init; }

    /// <summary>The details; only the qcow2 fields are read.</summary>
    public Qcow2FormatData? Data { get; init; }
}
