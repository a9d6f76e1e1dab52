namespace OfflineExport.Export;

/// <summary>The formats a top image may be stated as, and how a format is told to the user.</summary>
public static class ImageFormats
{
    /// <summary>A raw disk: the file is the disk, byte for byte.</summary>
    public const string Raw = "raw";

    /// <summary>A qcow2 image.</summary>
    public const string Qcow2 = "qcow2";

    /// <summary>True for the formats offline-export reads.</summary>
    public static bool IsSupported(string format) => format is Raw or Qcow2;

    /// <summary>Refuses a stated format other than raw or qcow2 (null: not stated, accepted).</summary>
    /// <exception cref="OfflineExportException">The format is not supported (InvalidRequest).</exception>
    public static void CheckStated(string? format)
    {
        if (format is not null && !IsSupported(format))
        {
            throw new OfflineExportException(ErrorKind.InvalidRequest, $"format '{format}' is not supported; give raw or qcow2");
        }
    }

    /// <summary>"qcow2", or "qcow2 (detected; pass --format to state it)" when qemu guessed it.</summary>
    public static string Describe(string format, FormatOrigin origin) => origin switch
    {
        FormatOrigin.Detected => $"{format} (detected; pass --format to state it)",
        FormatOrigin.Recorded => $"{format} (recorded in the backup folder)",
        _ => format,
    };
}
