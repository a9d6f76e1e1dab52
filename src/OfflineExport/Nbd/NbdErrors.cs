namespace OfflineExport.Nbd;

/// <summary>The protocol's error values (errno numbers as sent on the wire) and their names.</summary>
public static class NbdErrors
{
    /// <summary>Operation not permitted.</summary>
    public const uint EPERM = 1;

    /// <summary>Input/output error.</summary>
    public const uint EIO = 5;

    /// <summary>Out of memory.</summary>
    public const uint ENOMEM = 12;

    /// <summary>Invalid argument; also stands for any errno the protocol does not define.</summary>
    public const uint EINVAL = 22;

    /// <summary>No space left on the device: the target's disk is full.</summary>
    public const uint ENOSPC = 28;

    /// <summary>Value too large.</summary>
    public const uint EOVERFLOW = 75;

    /// <summary>Not supported.</summary>
    public const uint ENOTSUP = 95;

    /// <summary>The server is shutting down.</summary>
    public const uint ESHUTDOWN = 108;

    /// <summary>The protocol defines only the values above; any other (and 0 in an error) reads as EINVAL.</summary>
    public static uint Normalize(uint errno) => errno switch
    {
        EPERM or EIO or ENOMEM or EINVAL or ENOSPC or EOVERFLOW or ENOTSUP or ESHUTDOWN => errno,
        _ => EINVAL,
    };

    /// <summary>A short description of <paramref name="errno"/> for messages.</summary>
    public static string Describe(uint errno) => errno switch
    {
        EPERM => "EPERM (operation not permitted)",
        EIO => "EIO (input/output error)",
        ENOMEM => "ENOMEM (out of memory)",
        EINVAL => "EINVAL (invalid argument)",
        ENOSPC => "ENOSPC (no space left on device)",
        EOVERFLOW => "EOVERFLOW (value too large)",
        ENOTSUP => "ENOTSUP (not supported)",
        ESHUTDOWN => "ESHUTDOWN (server shutting down)",
        _ => $"error {errno}",
    };

    /// <summary>A short description of an option reply error type.</summary>
    public static string DescribeOptionError(uint replyType) => (replyType & ~NbdProtocol.RepErrorBit) switch
    {
        1 => "unsupported option",
        2 => "forbidden by server policy",
        3 => "invalid option",
        4 => "not supported on this platform",
        5 => "TLS required",
        6 => "unknown export",
        7 => "server shutting down",
        8 => "block size negotiation required",
        9 => "request too big",
        _ => $"error {replyType:x8}",
    };
}
