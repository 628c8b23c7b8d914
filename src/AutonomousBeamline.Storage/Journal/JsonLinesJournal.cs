using AutonomousBeamline.Control.Journal;

namespace AutonomousBeamline.Storage;

/// <summary>
/// The run's journal as journal.jsonl: one JSON line per record, numbered and timed here, written and flushed to disk
/// by the run folder's writer thread. <see cref="Write"/> returns as soon as the record is queued; <see cref="FlushAsync"/>
/// waits for the disk. Safe to call from the loop and the cycler at once.
/// </summary>
public sealed class JsonLinesJournal : IRunJournal, IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly RunFolderWriter _writer;
    private readonly TimeProvider _time;
    private long _sequence;
    private bool _closed;

    /// <param name="lastSequence">The highest seq already in the file (a resumed run numbers on from it).</param>
    internal JsonLinesJournal(RunFolderWriter writer, TimeProvider time, long lastSequence)
    {
        _writer = writer;
        _time = time;
        _sequence = lastSequence;
    }

    /// <summary>
    /// Raised for every record as it is accepted, on the writing thread, before <see cref="Write"/> returns — under the
    /// journal's lock, so that watchers see records in the journal's order whichever thread wrote them. Handlers must be
    /// quick and must not wait for another thread that writes to the journal.
    /// </summary>
    public event Action<JournalEntry>? Recorded;

    /// <summary>Why the run folder takes nothing more (a full disk, a folder gone); null while it writes.</summary>
    public JournalFailedException? Failure => _writer.Failure;

    /// <summary>Raised once, on the writer's thread, when a line of either file could not be written; handlers must be quick and must not throw.</summary>
    public event Action<JournalFailedException>? Failed
    {
        add => _writer.Failed += value;
        remove => _writer.Failed -= value;
    }

    /// <summary>
    /// Numbers and times the record and queues it for the disk. Throws <see cref="JournalFailedException"/> once the run
    /// folder has failed, <see cref="ObjectDisposedException"/> once the journal is closed, and
    /// <see cref="ArgumentException"/> for a record type the journal has no name for. Blocks while the queue is full.
    /// </summary>
    public JournalEntry Write(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var type = JournalRecordTypes.Of(record);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var entry = new JournalEntry(_sequence + 1, ToTheMillisecond(_time.GetUtcNow()), record);
            _writer.AppendToJournal($"record {entry.Sequence} ({type.Name})", () => JournalLine.Encode(entry));
            _sequence = entry.Sequence;
            Recorded?.Invoke(entry);
            return entry;
        }
    }

    public JournalEntry? TryWrite(JournalRecord record)
    {
        try { return Write(record); }
        catch (Exception e) when (e is JournalFailedException or ObjectDisposedException) { return null; }
    }

    /// <summary>
    /// Completes once every record and frame accepted so far is on disk; faults with <see cref="JournalFailedException"/>
    /// if one could not be written.
    /// </summary>
    public Task FlushAsync() => _writer.FlushAsync();

    /// <summary>
    /// Closes the journal and with it the run folder's writer (the frame store's file too: the journal has a run's last
    /// word), once everything accepted is on disk.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate) _closed = true;
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    // The time as the file keeps it, so that the entry a writer gets back equals the one a reader will read.
    private static DateTimeOffset ToTheMillisecond(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerMillisecond));
    }
}
