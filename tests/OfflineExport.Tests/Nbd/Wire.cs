using System.Text;

namespace OfflineExport.Tests.Nbd;

/// <summary>
/// Builds expected wire bytes by hand, big-endian as the NBD protocol document says, without
/// going through the library's codecs (so a codec bug cannot hide in the expectation).
/// </summary>
internal static class Wire
{
    public static byte[] U16(int value) => [(byte)(value >> 8), (byte)value];

    public static byte[] U32(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    public static byte[] U64(ulong value) =>
    [
        (byte)(value >> 56), (byte)(value >> 48), (byte)(value >> 40), (byte)(value >> 32),
        (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value,
    ];

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    public static uint ReadU32(ReadOnlySpan<byte> bytes) =>
        ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];

    public static ushort ReadU16(ReadOnlySpan<byte> bytes) => (ushort)((bytes[0] << 8) | bytes[1]);

    public static ulong ReadU64(ReadOnlySpan<byte> bytes) => ((ulong)ReadU32(bytes) << 32) | ReadU32(bytes[4..]);
}
