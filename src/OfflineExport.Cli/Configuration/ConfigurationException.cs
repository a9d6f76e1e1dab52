namespace OfflineExport.Cli.Configuration;

/// <summary>A configuration value is invalid; the message names the key and where the value came from.</summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
