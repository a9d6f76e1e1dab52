namespace OfflineExport.Tests.Nbd;

/// <summary>What a <see cref="FakeNbdServer"/> tells the client during its scripted handshake.</summary>
internal sealed record FakeNbdExport
{
    /// <summary>HAS_FLAGS (bit 0) | SEND_FLUSH (bit 2) | SEND_WRITE_ZEROES (bit 6) | CAN_MULTI_CONN (bit 8).</summary>
    public const ushort DefaultTransmissionFlags = (1 << 0) | (1 << 2) | (1 << 6) | (1 << 8);

    /// <summary>Handshake flags in the greeting: FIXED_NEWSTYLE | NO_ZEROES, as qemu sends.</summary>
    public ushort HandshakeFlags { get; init; } = 3;

    public ulong Size { get; init; } = 1UL << 20;

    public ushort TransmissionFlags { get; init; } = DefaultTransmissionFlags;

    public uint MinimumBlockSize { get; init; } = 1;

    public uint PreferredBlockSize { get; init; } = 4096;

    public uint MaximumBlockSize { get; init; } = 32u << 20;

    /// <summary>Contexts the server grants when asked for them (name → id); other queries get no reply.</summary>
    public IReadOnlyDictionary<string, uint> Contexts { get; init; } = new Dictionary<string, uint>();
}
