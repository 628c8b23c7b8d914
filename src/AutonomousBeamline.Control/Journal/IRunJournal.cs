using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Journal;

/// <summary>
/// The run's source of truth, as the controller writes it: typed records, in order. How and where they are kept
/// (JSON lines, a database) is the storage adapter's business. Safe to call from the loop and the cycler at once.
/// </summary>
public interface IRunJournal
{
    /// <summary>
    /// Appends a record. Records keep the order of the calls; a record accepted here reaches the disk even if the caller
    /// goes on at once, unless the store fails first. Throws <see cref="JournalFailedException"/> once the store has failed
    /// (a full disk, say), so the run can go safe instead of carrying on unrecorded.
    /// </summary>
    JournalEntry Write(JournalRecord record);

    /// <summary>Like <see cref="Write"/>, but null instead of an exception once the journal is closed or has failed.</summary>
    JournalEntry? TryWrite(JournalRecord record);

    /// <summary>
    /// Raised for every record as it is accepted, on the thread that wrote it, before <see cref="Write"/> returns (so a
    /// watcher that reacts to a record acts at the same point of the run every time); handlers must be quick.
    /// </summary>
    event Action<JournalEntry>? Recorded;
}

/// <summary>What became of a received frame.</summary>
public enum FrameFate
{
    /// <summary>It became an observation.</summary>
    Observation,
    /// <summary>The beam was below the threshold during it.</summary>
    NoBeam,
    /// <summary>The analysis could not use it; the flag says why.</summary>
    Flagged,
    /// <summary>
    /// Preflight took it, before the cell was touched, to check that the configured references explain the sample; kept
    /// with the check's verdict. Never an observation, and not one of the run's frames against its budget.
    /// </summary>
    Preflight,
}

/// <summary>Every frame received, whether or not it became an observation, kept as it arrived.</summary>
public interface IFrameStore
{
    /// <param name="flag">For <see cref="FrameFate.Flagged"/>: the analysis' reason.</param>
    /// <param name="observationSequence">For a frame that became an observation: its sequence number, so that a resume can tell
    /// a frame whose observation record was lost to a crash.</param>
    /// <remarks>Not for <see cref="FrameFate.Preflight"/>: <see cref="StorePreflight"/> keeps such a frame with its verdict.</remarks>
    void Store(Frame frame, FrameFate fate, string? flag = null, long? observationSequence = null);

    /// <summary>A frame preflight's reference check took, with the check's verdict (whichever it was: a failed check's frame is the one to diagnose it by).</summary>
    void StorePreflight(Frame frame, ReferenceVerdict check);

    /// <summary>Frames stored so far (in this run folder, a resumed run's earlier frames included).</summary>
    int Count { get; }
}

/// <summary>A frame as a run folder keeps it: what became of it, and the frame itself when it was read.</summary>
/// <param name="ExposureS">Seconds of beam the frame took (its header's exposure; the whole scan for a spectrum).</param>
public sealed record StoredFrame(FrameFate Fate, string? Flag, long? ObservationSequence, double ExposureS, Frame? Frame)
{
    /// <summary>For a <see cref="FrameFate.Preflight"/> frame: the reference check's verdict on it.</summary>
    public ReferenceVerdict? Check { get; init; }

    /// <summary>The frame's place among the run's frames, from 1, as the store numbered it; null where the store did not say.</summary>
    public long? RunFrame { get; init; }
}

/// <summary>The journal or the frame store could not write (disk full, folder gone): the run must go safe and stop.</summary>
public sealed class JournalFailedException(string message, Exception? inner = null) : IOException(message, inner);
