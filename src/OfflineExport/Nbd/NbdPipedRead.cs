namespace OfflineExport.Nbd;

/// <summary>Where <see cref="NbdClient.ReadToPipeAsync"/> left the data it read.</summary>
public enum NbdPipedRead
{
    /// <summary>All of it is in the pipe, ready for <see cref="NbdClient.WriteFromPipeAsync"/>.</summary>
    InPipe,

    /// <summary>It is in the fallback buffer (the server split the reply, or the pipe filled up).</summary>
    InBuffer,

    /// <summary>The server answered with one hole: the range reads as zeroes and nothing was transferred.</summary>
    Hole,
}
