using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>A connection an <see cref="NbdReplyPump"/> serves.</summary>
/// <param name="Handle">Its socket, referenced until the connection ends, so the descriptor stays its own.</param>
/// <param name="Descriptor">The socket's descriptor, polled.</param>
/// <param name="Reader">Reads and dispatches its replies.</param>
/// <param name="Ended">Called once, on the pump's thread, when the connection has ended (the cause; null: closed after DISC).</param>
internal sealed record NbdReplyPumpMember(SafeHandle Handle, int Descriptor, NbdReplyReader Reader, Action<Exception?> Ended);
