namespace OfflineExport.Qmp;

/// <summary>The QMP peer sent something that is not valid QMP, or the connection broke.</summary>
public sealed class QmpProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QmpProtocolException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
