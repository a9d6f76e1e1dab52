namespace OfflineExport.Qemu;

/// <summary>A qemu program is missing or not executable.</summary>
public sealed class ToolNotFoundException : Exception
{
    /// <summary>Creates the exception for <paramref name="program"/>, provided by Debian's <paramref name="package"/>.</summary>
    public ToolNotFoundException(string program, string package, string problem)
        : base($"{program} {problem}; install the Debian package {package} (apt-get install {package}) or set its path in the configuration")
    {
        Program = program;
        Package = package;
    }

    /// <summary>The program that could not be run.</summary>
    public string Program { get; }

    /// <summary>The Debian package that provides it.</summary>
    public string Package { get; }
}
