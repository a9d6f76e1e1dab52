namespace OfflineExport.Qmp;

/// <summary>A failed reply: <c>{"error": {"class": …, "desc": …}, "id": …}</c>.</summary>
/// <param name="Id">The id of the command it answers, or null.</param>
/// <param name="ErrorClass">QEMU's error class, usually "GenericError".</param>
/// <param name="Description">The human-readable reason.</param>
public sealed record QmpErrorReply(string? Id, string ErrorClass, string Description) : QmpMessage;
