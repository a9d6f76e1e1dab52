namespace OfflineExport.Tests.Nbd;

/// <summary>A transmission request as the <see cref="FakeNbdServer"/> read it off the wire.</summary>
/// <param name="Flags">Command flags (u16).</param>
/// <param name="Type">Command type (u16): READ 0, WRITE 1, DISC 2, FLUSH 3, …, BLOCK_STATUS 7.</param>
/// <param name="Cookie">The cookie the reply must carry.</param>
/// <param name="Offset">Request offset.</param>
/// <param name="Length">Request length.</param>
/// <param name="Payload">The WRITE payload, empty for other types.</param>
internal sealed record FakeNbdRequest(ushort Flags, ushort Type, ulong Cookie, ulong Offset, uint Length, byte[] Payload)
{
    public const ushort Read = 0;
    public const ushort Write = 1;
    public const ushort Disconnect = 2;
    public const ushort Flush = 3;
    public const ushort BlockStatus = 7;

    public ulong End => Offset + Length;
}
