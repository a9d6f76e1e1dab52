namespace OfflineExport.Backup;

/// <summary>A point whose file cannot be trusted, what is wrong with it, and the later points that need it.</summary>
/// <param name="Disk">The disk's name.</param>
/// <param name="Point">The damaged point's number.</param>
/// <param name="File">Its file, relative to the folder.</param>
/// <param name="What">What is wrong, as a clause ("its file is missing").</param>
/// <param name="TakesDown">The numbers of the later points whose chain runs through it (they cannot be restored either).</param>
public sealed record PointDamage(string Disk, int Point, string File, string What, IReadOnlyList<int> TakesDown)
{
    /// <summary>The one line check prints: the point, what is wrong, and what it takes down.</summary>
    public string Describe() =>
        $"{Disk}: point {Point} ({File}) is damaged: {What}" + TakesDown.Count switch
        {
            0 => string.Empty,
            1 => $"; point {TakesDown[0]} needs it and cannot be restored either",
            _ => $"; points {string.Join(", ", TakesDown)} need it and cannot be restored either",
        };
}
