using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Decomposition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Steps;

/// <summary>
/// Decides which frames the reference-free decomposition is fed. A component-score target's kind: every sound frame
/// (explained or not). Any other kind: nothing while the references explain its frames, but the latest explained ones are
/// kept in a ring; the first frame they leave unexplained starts the kind's stream, seeded with that ring, and from then on
/// every sound frame of the kind is decomposed, explained ones too. Unexplained frames alone would not do: in them every
/// phase rises nearly together with the state of charge, so the components come out as mixtures; the explained frames'
/// variation is what separates the shapes. Not thread-safe: the run's loop is the one caller.
/// </summary>
public sealed class DecompositionFeed(IFrameDecomposition decomposition, ObservationTarget target, int seedCapacity = DecompositionFeed.SeedCapacity)
{
    /// <summary>The most explained frames a stream is seeded with: one short of the decomposition's 40-frame window, so the
    /// unexplained frame that starts it is in the window too.</summary>
    public const int SeedCapacity = 39;

    private readonly Dictionary<FrameKind, Queue<Frame>> _explained = [];
    private readonly Dictionary<FrameKind, DecompositionStream> _streams = [];

    /// <summary>The explained frames kept for a kind whose stream has not started (for the tests of the ring's bound).</summary>
    public int Kept(FrameKind kind) => _explained.TryGetValue(kind, out var ring) ? ring.Count : 0;

    /// <summary>The frame decomposed (with how its stream began), or nothing when it is not fed to the decomposition.</summary>
    /// <param name="flag">The analysis' flag of the frame: null when the references explain it.</param>
    public (FrameComponents? Components, DecompositionStream? Stream) Offer(Frame frame, string? flag)
    {
        if (_recalling is not null) throw new InvalidOperationException("a resumed feed's recall must end (EndRecall) before it is offered frames");
        _offered = true;
        return Route(frame, flag, decomposition);
    }

    /// <summary>
    /// A resumed run's earlier frame, offered again in the order the run took them, to bring back what the feed held: the
    /// explained frames kept for a kind whose stream had not started, and, for a stream that had, the frames it was fed.
    /// The frame takes the way <see cref="Offer"/> sent it, but to a stand-in that only records; nothing is decomposed until
    /// <see cref="EndRecall"/>. Only before the resumed run's first <see cref="Offer"/>.
    /// </summary>
    /// <param name="flag">The flag the frame was stored with (null for an observation).</param>
    public void Recall(Frame frame, string? flag)
    {
        if (_offered) throw new InvalidOperationException("earlier frames are recalled before the resumed run offers any");
        Route(frame, flag, _recalling ??= new RecordingDecomposition());
    }

    /// <summary>Restores the streams <see cref="Recall"/> found started; the explained frames kept for the others are already in place.</summary>
    /// <param name="published">What each stream had last published, from the journal.</param>
    /// <param name="began">How each stream began, as the journal recorded it: how many seeds joined is known only from the
    /// stream's own count then (a seed on another axis does not join); where the journal has no record, the ring's count.</param>
    public void EndRecall(IReadOnlyDictionary<FrameKind, PublishedComponents> published, IReadOnlyDictionary<FrameKind, DecompositionStream> began)
    {
        ArgumentNullException.ThrowIfNull(published);
        ArgumentNullException.ThrowIfNull(began);
        foreach (var (kind, (starter, fed)) in _recalling?.Streams ?? [])
        {
            decomposition.Restore(starter, fed, published.GetValueOrDefault(kind));
            if (began.TryGetValue(kind, out var journalled)) _streams[kind] = journalled;
        }
        _recalling = null;
    }

    private RecordingDecomposition? _recalling;
    private bool _offered;

    private (FrameComponents? Components, DecompositionStream? Stream) Route(Frame frame, string? flag, IFrameDecomposition to)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var kind = frame.Header.Kind;
        var unexplained = flag is XrdPhaseAnalyzer.FlagMisfit or XasEdgeAnalyzer.FlagReferenceMisfit;
        // Sound: explained, or unexplained by the references only. Any other flag (no signal, saturated, outside the ROI, an
        // incomplete scan) says the frame itself is bad.
        if (flag is not null && !unexplained) return (null, null);
        if (!_streams.TryGetValue(kind, out var stream) && target.Kind == TargetKind.ComponentScore && kind == target.MeasuredBy)
            _streams[kind] = stream = new DecompositionStream(DecompositionStart.ComponentScoreTarget, 0);
        if (stream is not null) return (to.Decompose(frame), stream);
        if (!unexplained)
        {
            Remember(kind, frame);
            return (null, null);
        }
        var seeds = _explained.Remove(kind, out var ring) ? ring.ToList() : [];
        stream = new DecompositionStream(DecompositionStart.ReferenceMisfit, to.Seed(frame, seeds));
        _streams[kind] = stream;
        return (to.Decompose(frame), stream);
    }

    /// <summary>Stands in for the decomposition while a resumed feed recalls: per kind, the frame that started the stream and
    /// every frame it was given (seeds first), in order, for <see cref="IFrameDecomposition.Restore"/>.</summary>
    private sealed class RecordingDecomposition : IFrameDecomposition
    {
        public Dictionary<FrameKind, (Frame Starter, List<Frame> Fed)> Streams { get; } = [];

        public FrameComponents? Decompose(Frame frame)
        {
            var kind = frame.Header.Kind;
            if (!Streams.TryGetValue(kind, out var stream)) Streams[kind] = stream = (frame, []);
            stream.Fed.Add(frame);
            return null;
        }

        /// <returns>The seeds offered: how many joined is the real decomposition's to say (the journal's record of it wins).</returns>
        public int Seed(Frame first, IReadOnlyList<Frame> earlier)
        {
            Streams[first.Header.Kind] = (first, earlier.Where(f => f.Header.Kind == first.Header.Kind).ToList());
            return earlier.Count;
        }

        public void Restore(Frame starter, IEnumerable<Frame> fed, PublishedComponents? published) =>
            throw new InvalidOperationException("a recording stands in for a decomposition; it restores nothing");
    }

    private void Remember(FrameKind kind, Frame frame)
    {
        if (seedCapacity == 0) return;
        if (!_explained.TryGetValue(kind, out var ring)) _explained[kind] = ring = new Queue<Frame>(seedCapacity);
        ring.Enqueue(frame);
        while (ring.Count > seedCapacity) ring.Dequeue();
    }
}
