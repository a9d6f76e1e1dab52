namespace OfflineExport.Backup;

/// <summary>What <c>forget</c> is asked.</summary>
public sealed record ForgetRequest
{
    /// <summary>The backup folder.</summary>
    public required string Folder { get; init; }

    /// <summary>Which points to keep.</summary>
    public required RetentionPolicy Policy { get; init; }

    /// <summary>Only say what would be kept, forgotten and merged; change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>The time zone whose days, weeks, months and years the rules count (null: the local one).</summary>
    public TimeZoneInfo? TimeZone { get; init; }
}
