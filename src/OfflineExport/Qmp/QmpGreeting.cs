namespace OfflineExport.Qmp;

/// <summary>The server's first message: <c>{"QMP": {"version": …, "capabilities": […]}}</c>.</summary>
/// <param name="Version">"major.minor.micro" of the QEMU that answers.</param>
/// <param name="Capabilities">Capabilities the server offers (e.g. "oob").</param>
public sealed record QmpGreeting(string Version, IReadOnlyList<string> Capabilities) : QmpMessage;
