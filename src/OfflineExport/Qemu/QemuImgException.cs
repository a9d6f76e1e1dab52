using OfflineExport.Processes;

namespace OfflineExport.Qemu;

/// <summary>qemu-img exited with a non-zero code where success was required; the callers say what it means for them.</summary>
public sealed class QemuImgException : Exception
{
    /// <summary>Creates the exception for a run that exited with <paramref name="exitCode"/>.</summary>
    public QemuImgException(int exitCode, string standardError)
        : base(BuildMessage(exitCode, standardError))
    {
        ExitCode = exitCode;
        StandardError = standardError.Trim();
    }

    /// <summary>qemu-img's exit code.</summary>
    public int ExitCode { get; }

    /// <summary>Its standard error, trimmed.</summary>
    public string StandardError { get; }

    private static string BuildMessage(int exitCode, string standardError)
    {
        var detail = TextTail.LastLines(standardError, 3);
        return detail.Length == 0 ? $"qemu-img exited with code {exitCode}" : $"qemu-img exited with code {exitCode}: {detail}";
    }
}
