using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace OfflineExport.Nbd;

/// <summary>
/// One thread that reads the replies of one or more connections: it waits in <c>poll(2)</c> for any of
/// them, reads each ready connection's replies, and sleeps only when none has anything. A copy's source
/// and target share one, so a READ reply, the WRITE it becomes and the write replies that arrived meanwhile
/// are handled in one wake-up instead of waking a thread per connection (docs/PERFORMANCE.md).
/// While it serves one connection (a reply, and the code that awaited it) the others' replies wait.
/// </summary>
public sealed partial class NbdReplyPump : IDisposable
{
    private const short PollIn = 0x001;
    private const int Eintr = 4;
    private const int Enomem = 12;
    private const int EventFdCloseOnExec = 0x80000;

    private readonly string _name;
    private readonly Lock _gate = new();
    private readonly List<NbdReplyPumpMember> _members = [];
    private int _membersVersion;
    private readonly int _wake;
    private Thread? _thread;
    private bool _disposed;
    private bool _wakeClosed;
    private Exception? _failure;
    private volatile NbdReplyReader? _serving;

    /// <summary>Creates a pump whose thread, started with the first connection, is called <paramref name="name"/>.</summary>
    /// <exception cref="IOException">The kernel refused the wake-up descriptor.</exception>
    public NbdReplyPump(string name)
    {
        _name = name;
        _wake = EventFd(0, EventFdCloseOnExec);
        if (_wake < 0)
        {
            throw new IOException($"eventfd failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    /// <summary>
    /// No more connections will join; the thread ends once the last one has (each ends when its socket
    /// is shut down or its server closes it).
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_thread is null)
            {
                CloseWake();
            }
            else
            {
                Wake();
            }
        }
    }

    /// <summary>
    /// Serves <paramref name="reader"/>'s replies from <paramref name="socket"/> until the connection ends,
    /// then calls <paramref name="ended"/> with the cause (null: closed after DISC) on the pump's thread.
    /// </summary>
    internal void Add(Socket socket, NbdReplyReader reader, Action<Exception?> ended)
    {
        // Held until the connection has ended: a socket closed meanwhile keeps its descriptor, which
        // the kernel would otherwise give to the next file opened while it is still in the poll set.
        var handle = socket.SafeHandle;
        var added = false;
        handle.DangerousAddRef(ref added);
        lock (_gate)
        {
            if (_disposed)
            {
                handle.DangerousRelease();
                throw _failure is null ? new ObjectDisposedException(nameof(NbdReplyPump)) : new IOException($"the NBD reply thread stopped: {_failure.Message}", _failure);
            }

            var member = new NbdReplyPumpMember(handle, (int)handle.DangerousGetHandle(), reader, ended);
            _members.Add(member);
            _membersVersion++;
            if (_thread is null)
            {
                var thread = new Thread(Run) { IsBackground = true, Name = _name };
                try
                {
                    thread.Start();
                }
                catch
                {
                    // No thread (a limit on threads): the connection is not served, and keeps no reference.
                    _members.Remove(member);
                    handle.DangerousRelease();
                    throw;
                }

                _thread = thread;
            }

            Wake();
        }
    }

    /// <summary>True while the thread serves a connection other than <paramref name="reader"/>'s: its replies wait meanwhile.</summary>
    internal bool IsServingOtherThan(NbdReplyReader reader) => _serving is { } serving && serving != reader;

    private unsafe void Run()
    {
        var polled = new PollDescriptor[4];
        NbdReplyPumpMember[] members = [];
        var version = -1;
        while (true)
        {
            lock (_gate)
            {
                if (_disposed && _members.Count == 0)
                {
                    CloseWake();
                    return;
                }

                // Copied only when a connection joined or left: this loop runs once per wake-up.
                if (version != _membersVersion)
                {
                    version = _membersVersion;
                    members = [.. _members];
                }
            }

            if (polled.Length < members.Length + 1)
            {
                polled = new PollDescriptor[members.Length + 1];
            }

            polled[0] = new PollDescriptor { Descriptor = _wake, Events = PollIn };
            for (var i = 0; i < members.Length; i++)
            {
                polled[i + 1] = new PollDescriptor { Descriptor = members[i].Descriptor, Events = PollIn };
            }

            if (Poll(polled, (nuint)(members.Length + 1), -1) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr)
                {
                    continue;
                }

                if (errno == Enomem)
                {
                    Thread.Sleep(10); // the kernel is short of memory for a moment: poll again
                    continue;
                }

                // Anything else would fail again at once: the pump stops, and says why to every connection.
                var failure = new IOException($"poll failed: {Marshal.GetPInvokeErrorMessage(errno)}");
                lock (_gate)
                {
                    _failure = failure;
                    _disposed = true;
                }

                foreach (var member in members)
                {
                    End(member, new NbdException($"NBD: {failure.Message}", failure));
                }

                continue;
            }

            if (polled[0].ReturnedEvents != 0)
            {
                ulong count;
                _ = Read(_wake, &count, sizeof(ulong));
            }

            for (var i = 0; i < members.Length; i++)
            {
                if (polled[i + 1].ReturnedEvents != 0)
                {
                    Serve(members[i]);
                }
            }
        }
    }

    /// <summary>Reads what the connection has (at least one reply, as poll said it is readable), then polls again.</summary>
    private void Serve(NbdReplyPumpMember member)
    {
        _serving = member.Reader;
        try
        {
            bool open;
            NbdException? cause;
            do
            {
                open = member.Reader.TryReadNext(out cause);
            }
            while (open && member.Reader.HasBufferedBytes);

            if (!open)
            {
                End(member, cause);
            }
        }
        catch (Exception ex)
        {
            // Not a protocol or connection failure (those end the connection with their cause): a bug,
            // which its requests fail with as it is, instead of ending the process from this thread.
            End(member, ex);
        }
        finally
        {
            _serving = null;
        }
    }

    private void End(NbdReplyPumpMember member, Exception? cause)
    {
        lock (_gate)
        {
            if (!_members.Remove(member))
            {
                return;
            }

            _membersVersion++;
        }

        // Released first: ending closes the socket, which waits for every reference to it to go.
        member.Handle.DangerousRelease();
        member.Ended(cause);
    }

    /// <summary>Makes the thread poll again (with the members as they are now). Called under the lock, which keeps the descriptor open.</summary>
    private unsafe void Wake()
    {
        if (!_wakeClosed)
        {
            ulong one = 1;
            _ = Write(_wake, &one, sizeof(ulong));
        }
    }

    private void CloseWake()
    {
        _wakeClosed = true;
        _ = Close(_wake);
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll([In, Out] PollDescriptor[] descriptors, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int descriptor, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int descriptor, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
