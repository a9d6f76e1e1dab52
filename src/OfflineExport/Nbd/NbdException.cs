namespace OfflineExport.Nbd;

/// <summary>
/// An NBD failure: the server refused a request (with an errno), broke the protocol, or the
/// connection ended. <see cref="Errno"/> is 0 for protocol and connection failures.
/// </summary>
public sealed class NbdException : Exception
{
    /// <summary>Creates a protocol or connection failure.</summary>
    public NbdException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>Creates a failure the server reported for a request.</summary>
    public NbdException(string message, uint errno)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>The error the server sent, or 0.</summary>
    public uint Errno { get; }

    /// <summary>True when the server said its disk is full (ENOSPC).</summary>
    public bool IsNoSpace => Errno == NbdErrors.ENOSPC;
}
