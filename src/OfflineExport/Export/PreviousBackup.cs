namespace OfflineExport.Export;

/// <summary>The previous backup of an incremental, as given and as its validated chain.</summary>
/// <param name="Path">The file as the operator named it (--backing), for messages.</param>
/// <param name="Layers">Its chain, top first, validated, with node names of their own (<see cref="PrefixForNodes"/>).</param>
public sealed record PreviousBackup(string Path, IReadOnlyList<ChainLayer> Layers)
{
    /// <summary>The previous chain's node-name prefix: apart from the source's, in the same daemon.</summary>
    public const string PrefixForNodes = "previous";
}
