namespace OfflineExport.Qemu;

/// <summary>The outcome of <c>qemu-img compare</c>.</summary>
/// <param name="ExitCode">0 identical, 1 different, 2 open error (also a lock), 3/4 other errors.</param>
/// <param name="Message">What qemu-img printed, cut to its last lines.</param>
public sealed record CompareResult(int ExitCode, string Message)
{
    /// <summary>True when the images have the same contents.</summary>
    public bool Identical => ExitCode == 0;

    /// <summary>True when the comparison ran and found a difference.</summary>
    public bool Different => ExitCode == 1;
}
