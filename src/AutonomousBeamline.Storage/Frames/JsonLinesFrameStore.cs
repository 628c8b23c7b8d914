using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Storage;

/// <summary>
/// Every frame received, as frames.jsonl: one line per frame, queued to the run folder's writer thread, which encodes
/// the payload and writes it through to disk — in order with the journal, so a frame is on disk before the observation
/// record that follows it. Safe to call from several threads.
/// </summary>
public sealed class JsonLinesFrameStore : IFrameStore
{
    private readonly RunFolderWriter _writer;
    private readonly object _gate = new();
    private int _count;

    /// <param name="stored">Frames already in the file (a resumed run counts on from them).</param>
    internal JsonLinesFrameStore(RunFolderWriter writer, int stored)
    {
        _writer = writer;
        _count = stored;
    }

    /// <summary>Raised on the writer's thread once a frame's line is on disk (the HDF5 blocks are fed from here); must not throw.</summary>
    internal event Action<StoredFrame>? Written;

    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Queues the frame for the disk. Throws <see cref="JournalFailedException"/> once the run folder has failed,
    /// <see cref="ObjectDisposedException"/> once it is closed; blocks while the queue is full.
    /// </summary>
    /// <param name="flag">The analysis' reason: required for <see cref="FrameFate.Flagged"/>, refused for the other fates.</param>
    public void Store(Frame frame, FrameFate fate, string? flag = null, long? observationSequence = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (fate == FrameFate.Preflight) throw new ArgumentException($"a preflight frame is kept with its verdict: {nameof(StorePreflight)}", nameof(fate));
        if (fate == FrameFate.Flagged && string.IsNullOrEmpty(flag)) throw new ArgumentException("a flagged frame needs the analysis' flag", nameof(flag));
        if (fate != FrameFate.Flagged && flag is not null) throw new ArgumentException($"a frame kept as {fate} has no flag", nameof(flag));
        Append(new StoredFrame(fate, flag, observationSequence, frame.Header.ExposureS ?? 0, frame));
    }

    /// <summary>Queues a frame preflight's reference check took, with its verdict; throws as <see cref="Store"/> does.</summary>
    public void StorePreflight(Frame frame, ReferenceVerdict check)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(check);
        Append(new StoredFrame(FrameFate.Preflight, null, null, frame.Header.ExposureS ?? 0, frame) { Check = check });
    }

    private void Append(StoredFrame stored)
    {
        // Numbered and queued together, so that run_frame follows the file's order whichever thread stores.
        lock (_gate)
        {
            var runFrame = _count + 1L;
            var numbered = stored with { RunFrame = runFrame };
            _writer.AppendToFrames($"frame {runFrame} (detector frame {stored.Frame!.Header.Frame})", () => FrameLine.Encode(numbered, runFrame), () => Written?.Invoke(numbered));
            Volatile.Write(ref _count, (int)runFrame);
        }
    }
}
