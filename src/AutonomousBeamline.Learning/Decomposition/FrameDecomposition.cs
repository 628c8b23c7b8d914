using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Decomposition;

/// <summary>One component as the journal summarises it: where its shape peaks on the frames' axis, and its share of the frame.</summary>
/// <param name="PeakAt">The axis value (2θ, q or eV, as the frames' header says) of the component's largest channel.</param>
public sealed record ComponentSummary(int Id, double PeakAt, double Fraction, long FirstSeenFrame);

/// <summary>What decomposing one frame gave: the update, and the components summarised on the frame's own axis.</summary>
/// <param name="Moving">Components that are one diffraction pattern at successive positions (<see cref="MovingPatterns"/>),
/// looked for when the update is a new version; their scores are no amount of anything.</param>
public sealed record FrameComponents(FrameKind Kind, DecompositionUpdate Update, IReadOnlyList<ComponentSummary> Summaries)
{
    public IReadOnlyList<MovingPattern> Moving { get; init; } = [];
}

/// <summary>What a kind's stream had last published before a crash, as the journal kept it.</summary>
/// <param name="Version">The last published model version.</param>
/// <param name="LastId">The highest component id the stream ever gave (ids are never reused).</param>
public sealed record PublishedComponents(int Version, int LastId, IReadOnlyList<ComponentSummary> Components);

/// <summary>Decomposes frames without references, one stream per kind of frame (the run's loop is the one caller).</summary>
public interface IFrameDecomposition
{
    /// <summary>Null when the frame cannot join its stream (another axis or grid than the stream's first frame, e.g. a sparse scan).</summary>
    FrameComponents? Decompose(Frame frame);

    /// <summary>
    /// Feeds <paramref name="earlier"/> frames to the stream of <paramref name="first"/>'s kind, ahead of it, without
    /// publishing (<see cref="IncrementalDecomposition.Seed"/>: the <see cref="Decompose"/> of <paramref name="first"/> that
    /// follows publishes what they and it resolve). A kind with no stream yet starts one on <paramref name="first"/>'s axis;
    /// an earlier frame on another axis, or of another kind, is left out. Returns how many joined.
    /// </summary>
    int Seed(Frame first, IReadOnlyList<Frame> earlier);

    /// <summary>
    /// Brings back after a crash the stream of <paramref name="starter"/>'s kind: <paramref name="fed"/> are the frames the
    /// stream was offered before the crash, in order (its seeds included, <paramref name="starter"/> among them). The stream
    /// takes the axis it took then, counts the frames that joined it, resolves the latest of them and recognises the
    /// components <paramref name="published"/> by where they peak. Nothing is published until the next <see cref="Decompose"/>.
    /// </summary>
    void Restore(Frame starter, IEnumerable<Frame> fed, PublishedComponents? published);
}

/// <summary>
/// <see cref="IncrementalDecomposition"/> per kind of frame: diffraction patterns as counts (Poisson), absorption spectra
/// as normalised μ (Gaussian noise). A stream takes the axis of its first frame; a frame on another axis (an XAS planner's
/// sparse scan, a detector re-described mid-run) is left out rather than interpolated, since resampling would correlate
/// the noise the rank estimate assumes independent.
/// </summary>
/// <param name="noise">A kind's noise model where it is not the default: Gaussian for diffraction patterns given as what their
/// references leave, weighted to one noise level (<see cref="ReferenceResidual"/>).</param>
public sealed class FrameDecomposition(int window = 40, int maxComponents = 8, IReadOnlyDictionary<FrameKind, NoiseModel>? noise = null) : IFrameDecomposition
{
    private readonly Dictionary<FrameKind, (IncrementalDecomposition Stream, double[] Axis)> _streams = [];

    public FrameComponents? Decompose(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (Joining(frame) is not { } joining) return null;
        var (stream, values) = joining;
        var update = stream.Add(values);
        var summaries = update.Components.Select(c =>
            new ComponentSummary(c.Id, frame.XAt(PeakChannel(c.Shape)), update.ScoreOf(c.Id)?.Fraction ?? 0, c.FirstSeenFrame)).ToList();
        // Only a new version can have cut a reflection anew. Patterns only: what references leave has their mismatch at their own
        // (moving) peaks, in pieces too, but no phase of its own there.
        var moving = update.Changed && frame.Header.Kind == FrameKind.Xrd && stream.Options.Noise == NoiseModel.Poisson
            ? MovingPatterns.Find(update.Components, _streams[frame.Header.Kind].Axis, frame.Header.XName ?? "", frame.Header.XUnit ?? "")
            : [];
        return new FrameComponents(frame.Header.Kind, update, summaries) { Moving = moving };
    }

    public int Seed(Frame first, IReadOnlyList<Frame> earlier)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(earlier);
        // The stream takes first's axis (when it has none yet) before any earlier frame could give it another.
        if (Usable(first) is not { } axis) return 0;
        StreamOf(first.Header.Kind, axis);
        var joined = 0;
        foreach (var frame in earlier.Where(f => f.Header.Kind == first.Header.Kind))
        {
            if (Joining(frame) is not { } joining) continue;
            joining.Stream.Seed(joining.Values);
            joined++;
        }
        return joined;
    }

    public void Restore(Frame starter, IEnumerable<Frame> fed, PublishedComponents? published)
    {
        ArgumentNullException.ThrowIfNull(starter);
        ArgumentNullException.ThrowIfNull(fed);
        var kind = starter.Header.Kind;
        if (_streams.ContainsKey(kind)) throw new InvalidOperationException($"the {kind.Name()} stream has taken frames already: only a new one can be restored");
        // As then: the starter gives the axis. When it has none usable, no seed joined (Seed refused them all) and the starter
        // itself did not join: the stream began with the first usable frame after it.
        var starterAxis = Usable(starter);
        if (starterAxis is not null) StreamOf(kind, starterAxis);
        var pastStarter = starterAxis is not null;
        var latest = new Queue<double[]>(window);
        long taken = 0;
        foreach (var frame in fed.Where(f => f.Header.Kind == kind))
        {
            if (!pastStarter)
            {
                pastStarter = ReferenceEquals(frame, starter);
                continue;
            }
            if (Joining(frame) is not { } joining) continue;
            taken++;
            latest.Enqueue(joining.Values);
            if (latest.Count > window) latest.Dequeue();
        }
        if (taken == 0 || !_streams.TryGetValue(kind, out var stream)) return;
        var axis = stream.Axis;
        stream.Stream.Restore(latest.ToList(), taken, published?.Version ?? 0, (published?.LastId ?? 0) + 1,
            components => Recognise(components, axis, published?.Components ?? []));
    }

    /// <summary>
    /// Each resolved component's earlier id: the published component peaking nearest it, within three of the axis' steps there
    /// (nearest pairs first, each earlier id given once). A resolved shape peaks where its phase's strongest line is, which a
    /// refit on nearly the same window does not move by more than a channel or two; a component that moved further is news.
    /// </summary>
    private static IReadOnlyList<(int Id, long FirstSeenFrame)?> Recognise(IReadOnlyList<ResolvedComponent> components, double[] axis,
        IReadOnlyList<ComponentSummary> published)
    {
        var channels = components.Select(c => PeakChannel(c.Shape)).ToArray();
        // The axis' own step where each component peaks: an absorption grid may be fine at the edge and coarse beyond it.
        var steps = channels.Select(j => LocalStep(axis, j)).ToArray();
        var result = new (int Id, long FirstSeenFrame)?[components.Count];
        var used = new HashSet<int>();
        var pairs = published.SelectMany(p => channels.Select((j, r) => (Earlier: p, Row: r, Distance: Math.Abs(axis[j] - p.PeakAt))))
            .Where(p => p.Distance <= RecogniseChannels * steps[p.Row]).OrderBy(p => p.Distance);
        foreach (var (earlier, row, _) in pairs)
            if (result[row] is null && used.Add(earlier.Id)) result[row] = (earlier.Id, earlier.FirstSeenFrame);
        return result;
    }

    private const int RecogniseChannels = 3;

    /// <summary>The axis' step about channel <paramref name="j"/>: the mean of its two neighbouring steps (one at an end).</summary>
    private static double LocalStep(double[] axis, int j)
    {
        var (lo, hi) = (Math.Max(0, j - 1), Math.Min(axis.Length - 1, j + 1));
        return hi > lo ? Math.Abs(axis[hi] - axis[lo]) / (hi - lo) : 0;
    }

    private static int PeakChannel(IReadOnlyList<double> shape)
    {
        var peak = 0;
        for (var j = 1; j < shape.Count; j++) if (shape[j] > shape[peak]) peak = j;
        return peak;
    }

    /// <summary>The frame's axis, or null when it holds no finite values on a described axis.</summary>
    private static double[]? Usable(Frame frame)
    {
        var h = frame.Header;
        var values = frame.Intensities;
        if (values.Length < 2 || values.Any(v => !double.IsFinite(v))) return null;
        if (frame.X is null && (h.XStart is null || h.XStep is null)) return null;
        return Enumerable.Range(0, values.Length).Select(frame.XAt).ToArray();
    }

    private (IncrementalDecomposition Stream, double[] Axis) StreamOf(FrameKind kind, double[] axis)
    {
        if (!_streams.TryGetValue(kind, out var stream))
        {
            var model = noise is not null && noise.TryGetValue(kind, out var given) ? given : kind == FrameKind.Xas ? NoiseModel.Gaussian : NoiseModel.Poisson;
            stream = (new IncrementalDecomposition(new DecompositionOptions(model, window, maxComponents)), axis);
            _streams[kind] = stream;
        }
        return stream;
    }

    /// <summary>The frame's stream and values, or null when the frame cannot join it (another axis or grid, negative counts).</summary>
    private (IncrementalDecomposition Stream, double[] Values)? Joining(Frame frame)
    {
        if (Usable(frame) is not { } axis) return null;
        var stream = StreamOf(frame.Header.Kind, axis);
        var tolerance = 1e-6 * Math.Max(Math.Abs(stream.Axis[^1] - stream.Axis[0]) / stream.Axis.Length, 1e-12);
        if (axis.Length != stream.Axis.Length || axis.Where((x, i) => Math.Abs(x - stream.Axis[i]) > tolerance).Any()) return null;
        var values = frame.Intensities;
        if (stream.Stream.Options.Noise == NoiseModel.Poisson && values.Any(v => v < 0)) return null;
        return (stream.Stream, values.Select(v => (double)v).ToArray());
    }
}
