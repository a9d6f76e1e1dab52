namespace OfflineExport.Qemu;

/// <summary>The qcow2 part of "format-specific.data".</summary>
public sealed record Qcow2FormatData
{
    /// <summary>The qcow2 compatibility level ("0.10" or "1.1").</summary>
    public string? Compat { get; init; }

    /// <summary>The persistent dirty bitmaps.</summary>
    public IReadOnlyList<BitmapInfo>? Bitmaps { get; init; }

    /// <summary>The encryption of the guest data, when there is one.</summary>
    public Qcow2Encryption? Encrypt { get; init; }

    /// <summary>True when qemu found the image corrupt.</summary>
    public bool? Corrupt { get; init; }

    /// <summary>
    /// The external data file's name as the header records it (absolute, or relative to the image's folder as
    /// libvirt reads it; qemu 7.2 itself takes a relative one from its working folder), or null when the
    /// image keeps its data in itself.
    /// </summary>
    [System.Text.Json.Serialization.JsonPropertyName("data-file")]
    public string? DataFile { get; init; }

    /// <summary>True when the image allocates its clusters in subclusters (<c>extended_l2</c>).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("extended-l2")]
    public bool? ExtendedL2 { get; init; }
}
