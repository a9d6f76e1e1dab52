using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>One entry of <c>poll(2)</c>'s array (<c>struct pollfd</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollDescriptor
{
    /// <summary>The file descriptor.</summary>
    public int Descriptor;

    /// <summary>The events asked for.</summary>
    public short Events;

    /// <summary>The events that happened, filled in by the kernel.</summary>
    public short ReturnedEvents;
}
