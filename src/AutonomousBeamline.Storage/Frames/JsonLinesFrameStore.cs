using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;

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
        if (fate == FrameFate.Flagged && string.IsNullOrEmpty(flag)) throw new ArgumentException("a flagged frame needs the analysis' flag", nameof(flag));
        if (fate != FrameFate.Flagged && flag is not null) throw new ArgumentException($"a frame kept as {fate} has no flag", nameof(flag));
        var stored = new StoredFrame(fate, flag, observationSequence, frame.Header.ExposureS ?? 0, frame);
        // Numbered and queued together, so that run_frame follows the file's order whichever thread stores.
        lock (_gate)
        {
            var runFrame = _count + 1L;
            _writer.AppendToFrames($"frame {runFrame} (detector frame {frame.Header.Frame})", () => FrameLine.Encode(stored, runFrame), () => Written?.Invoke(stored));
            Volatile.Write(ref _count, (int)runFrame);
        }
    }
}
