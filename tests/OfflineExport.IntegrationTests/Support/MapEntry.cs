namespace OfflineExport.IntegrationTests.Support;

/// <summary>One entry of <c>qemu-img map --output=json</c>.</summary>
public sealed record MapEntry
{
    /// <summary>First byte.</summary>
    public long Start { get; init; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; init; }

    /// <summary>0 for the top layer, 1 for its backing file, …</summary>
    public int Depth { get; init; }

    /// <summary>True when some layer at this depth holds the range.</summary>
    public bool Present { get; init; }

    /// <summary>True when the range reads as zeroes.</summary>
    public bool Zero { get; init; }

    /// <summary>True when the range holds data clusters.</summary>
    public bool Data { get; init; }
}
