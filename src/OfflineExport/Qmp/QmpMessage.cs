namespace OfflineExport.Qmp;

/// <summary>One JSON object received from a QMP monitor: a greeting, a reply or an event.</summary>
public abstract record QmpMessage;
