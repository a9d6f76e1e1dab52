namespace OfflineExport.Tests.Nbd;

/// <summary>An option the client sent during the handshake, as the <see cref="FakeNbdServer"/> read it.</summary>
/// <param name="Option">Option number: ABORT 2, GO 7, STRUCTURED_REPLY 8, SET_META_CONTEXT 10.</param>
/// <param name="Data">The option data.</param>
internal sealed record FakeNbdOption(uint Option, byte[] Data)
{
    public const uint Abort = 2;
    public const uint Go = 7;
    public const uint StructuredReply = 8;
    public const uint SetMetaContext = 10;
}
