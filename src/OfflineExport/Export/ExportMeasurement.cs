namespace OfflineExport.Export;

/// <summary>
/// What <see cref="ExportPlanner.MeasureAsync"/> found before the copy, handed to
/// <see cref="ExportPlanner.PlanAsync"/> so the copy does not walk again what the measuring walked.
/// </summary>
/// <param name="WorkBytes">
/// The progress total: for an incremental, the dirty bytes (every dirty byte is copied or zeroed); for a
/// full export, the allocated non-zero bytes.
/// </param>
/// <param name="DirtyRuns">An incremental's dirty runs, or null when there were too many to keep (or for a full export).</param>
/// <param name="Ranges">A full export's planned ranges, or null when there were too many to keep (or for an incremental).</param>
public sealed record ExportMeasurement(ulong WorkBytes, IReadOnlyList<ByteRange>? DirtyRuns, IReadOnlyList<CopyRange>? Ranges);
