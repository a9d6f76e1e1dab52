namespace OfflineExport.Processes;

/// <summary>The last lines a child wrote, kept so its death can be reported in its own words. Thread-safe.</summary>
public sealed class OutputTail
{
    private readonly Queue<string> _lines = new();
    private readonly int _capacity;

    /// <summary>Creates a tail that keeps the last <paramref name="capacity"/> lines.</summary>
    public OutputTail(int capacity) => _capacity = capacity;

    /// <summary>The child's process id once it has started (for log lines), else 0.</summary>
    public int ProcessId { get; set; }

    /// <summary>Adds a line, dropping the oldest beyond the capacity.</summary>
    public void Add(string line)
    {
        lock (_lines)
        {
            _lines.Enqueue(line.Trim());
            while (_lines.Count > _capacity)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <summary>The kept lines, oldest first, joined by " | ".</summary>
    public override string ToString() => ToString(static _ => false);

    /// <summary>The kept lines but those <paramref name="omit"/> picks, oldest first, joined by " | ".</summary>
    public string ToString(Func<string, bool> omit)
    {
        lock (_lines)
        {
            return string.Join(" | ", _lines.Where(line => !omit(line)));
        }
    }
}
