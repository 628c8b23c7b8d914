using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Tests.Support;

/// <summary>The journal and frame store as lists, for tests that read back typed records.</summary>
internal sealed class MemoryJournal(TimeProvider time) : IRunJournal, IFrameStore
{
    private readonly object _gate = new();
    private readonly List<JournalEntry> _entries = new();
    private readonly List<(Frame Frame, FrameFate Fate, string? Flag, long? Sequence)> _frames = new();
    private readonly List<(Frame Frame, ReferenceVerdict Check)> _preflight = new();

    public event Action<JournalEntry>? Recorded;

    /// <summary>When set, every write throws it (a store that failed).</summary>
    public Exception? FailWith { get; set; }

    /// <summary>Called with every record the run tries to write, failed or not (to see what had happened by then).</summary>
    public Action<JournalRecord>? OnAttempt { get; set; }

    public JournalEntry Write(JournalRecord record)
    {
        OnAttempt?.Invoke(record);
        if (FailWith is { } failure) throw failure;
        JournalEntry entry;
        lock (_gate)
        {
            entry = new JournalEntry(_entries.Count + 1, time.GetUtcNow(), record);
            _entries.Add(entry);
        }
        Recorded?.Invoke(entry);
        return entry;
    }

    public JournalEntry? TryWrite(JournalRecord record)
    {
        try { return Write(record); }
        catch (JournalFailedException) { return null; }
    }

    public IReadOnlyList<JournalEntry> Entries { get { lock (_gate) return _entries.ToList(); } }

    public IReadOnlyList<T> Records<T>() where T : JournalRecord => Entries.Select(e => e.Record).OfType<T>().ToList();

    public IReadOnlyList<StateTransition> Transitions => Records<StateTransition>();

    public void Store(Frame frame, FrameFate fate, string? flag = null, long? observationSequence = null)
    {
        if (FailWith is { } failure) throw failure;
        lock (_gate) _frames.Add((frame, fate, flag, observationSequence));
    }

    public void StorePreflight(Frame frame, ReferenceVerdict check)
    {
        if (FailWith is { } failure) throw failure;
        lock (_gate)
        {
            _frames.Add((frame, FrameFate.Preflight, null, null));
            _preflight.Add((frame, check));
        }
    }

    public int Count { get { lock (_gate) return _frames.Count; } }

    /// <summary>The frames preflight's reference check stored, with their verdicts.</summary>
    public IReadOnlyList<(Frame Frame, ReferenceVerdict Check)> PreflightFrames { get { lock (_gate) return _preflight.ToList(); } }

    public IReadOnlyList<(Frame Frame, FrameFate Fate, string? Flag, long? Sequence)> Frames { get { lock (_gate) return _frames.ToList(); } }
}
