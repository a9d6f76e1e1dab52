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

    /// <summary>True when the image allocates its clusters in subclusters (<c>extended_l2</c>).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("extended-l2")]
    public bool? ExtendedL2 { get; init; }
}
