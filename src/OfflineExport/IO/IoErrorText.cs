namespace OfflineExport.IO;

/// <summary>The cause of a file-system error in a user's words, without .NET's " : 'path'" tail (the message names the path already).</summary>
public static class IoErrorText
{
    /// <summary>"No space left on device", "Read-only file system", "permission denied", …</summary>
    public static string Reason(Exception ex)
    {
        if (ex is UnauthorizedAccessException)
        {
            return "permission denied";
        }

        var message = ex.Message;
        var tail = message.IndexOf(" : '", StringComparison.Ordinal);
        return (tail > 0 ? message[..tail] : message).Trim();
    }
}
