namespace OfflineExport.Nbd;

/// <summary>A request the reader loop is waiting to answer, keyed by its cookie.</summary>
internal sealed class NbdPendingRequest
{
    public NbdPendingRequest(NbdCommandType type, ulong offset, uint length, Memory<byte> destination)
    {
        Type = type;
        Offset = offset;
        Length = length;
        Destination = destination;
    }

    public NbdCommandType Type { get; }

    public ulong Offset { get; }

    public uint Length { get; }

    public ulong End => Offset + Length;

    /// <summary>Where READ data goes: OFFSET_DATA chunks are received straight into it.</summary>
    public Memory<byte> Destination { get; }

    /// <summary>READ bytes covered by data and hole chunks so far.</summary>
    public ulong Covered { get; set; }

    /// <summary>The first error chunk the server sent; the request fails with it once DONE arrives.</summary>
    public NbdException? Error { get; set; }

    /// <summary>BLOCK_STATUS extents by context id.</summary>
    public Dictionary<uint, List<NbdExtent>>? Extents { get; set; }

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
