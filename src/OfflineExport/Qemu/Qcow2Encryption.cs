namespace OfflineExport.Qemu;

/// <summary>The "encrypt" part of a qcow2 layer's format-specific data (only the scheme is read).</summary>
public sealed record Qcow2Encryption
{
    /// <summary>The scheme: "luks", or "aes" for the old built-in encryption.</summary>
    public string? Format { get; init; }
}
