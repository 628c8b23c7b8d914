using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// Fits <see cref="HybridPhaseMap"/>s frame after frame, as the trainer does, without starting from scratch each time: the
/// correction spline's systems are kept in a <see cref="PolyharmonicSplineWindow"/> (one centre in, the oldest out: O(n²) per
/// frame instead of O(n³)), and the ML.NET forest — which cannot be warm-started — is refitted only once the frames have grown by
/// <see cref="ForestRefitGrowth"/> since its last fit; in between, the spline corrects the kept forest on every frame, the new ones
/// included. A fit on observations that do not continue the previous ones (another run, a reordered list) starts afresh.
/// Thread-safe (fits are serialised).
/// </summary>
public sealed class HybridPhaseMapFitter
{
    /// <summary>
    /// The trainer's default: the forest is refitted on every fit, only the spline is incremental. A refit after 10 % growth gives
    /// maps as good on the same frames with a third of the forest fits (docs/benchmarks.md part f: RMSE ratio 1.000, worst field
    /// 1.009), but in the closed loop the learner then did worse (part e, 80 fields: 1.36x against 1.43x random's frames under the
    /// product map, worst field 1.60 against 1.35): between refits new sharp features reach the map only through the smooth spline.
    /// A forest fit (0.1–0.8 s) is far shorter than a frame, so the refit is affordable.
    /// </summary>
    public const double DefaultForestRefitGrowth = 0;

    private readonly object _gate = new();
    private readonly HybridPhaseMapOptions _options;
    private PolyharmonicSplineWindow? _window;
    private bool _windowWithCRate;
    private readonly List<Observation> _windowFrames = [];
    private ForestPhaseMap? _forest;
    // The observations of the last fit (first, last, count): a new list continues them when it starts with the same ones.
    private Observation? _seenFirst;
    private Observation? _seenLast;
    private int _seen;

    /// <param name="options">The hybrid's settings; <see cref="HybridPhaseMapOptions.Default"/> when null.</param>
    /// <param name="forestRefitGrowth">Refit the forest once the usable frames exceed (1 + this) × those it was fitted on; 0 refits
    /// it on every fit (only the spline is then incremental).</param>
    public HybridPhaseMapFitter(HybridPhaseMapOptions? options = null, double forestRefitGrowth = DefaultForestRefitGrowth)
    {
        _options = options ?? HybridPhaseMapOptions.Default;
        _options.Validate();
        if (!(forestRefitGrowth >= 0) || !double.IsFinite(forestRefitGrowth))
            throw new ArgumentOutOfRangeException(nameof(forestRefitGrowth), forestRefitGrowth, "must be finite and >= 0");
        ForestRefitGrowth = forestRefitGrowth;
    }

    public double ForestRefitGrowth { get; }

    /// <summary>How many times the forest was fitted.</summary>
    public int ForestFits { get; private set; }

    /// <summary>True when the last fit refitted the forest.</summary>
    public bool LastFitRefittedForest { get; private set; }

    /// <summary>True when the last fit's correction came from updated systems rather than fresh ones.</summary>
    public bool LastFitWasIncremental { get; private set; }

    /// <summary>The hybrid on <paramref name="observations"/> (all of them; the newest are last), or null with too few usable.</summary>
    public HybridPhaseMap? Fit(IReadOnlyList<Observation> observations, int version)
    {
        ArgumentNullException.ThrowIfNull(observations);
        lock (_gate)
        {
            var usable = HybridPhaseMap.Usable(observations, _options);
            LastFitRefittedForest = NeedsForest(observations, usable.Length);
            if (LastFitRefittedForest)
            {
                var fitted = ForestPhaseMap.Fit(observations, version, _options.EffectiveForest);
                if (fitted is null) return null;
                ForestFits++;
                _forest = fitted;
            }
            _seen = observations.Count;
            _seenFirst = observations[0];
            _seenLast = observations[^1];
            var forest = _forest!;

            var frames = HybridPhaseMap.SplineFrames(usable, _options);
            Slide(frames);
            var splines = _window!.Fit(HybridPhaseMap.Residuals(frames.Observations, forest));
            LastFitWasIncremental = _window.LastFitWasUpdate;
            return HybridPhaseMap.Assemble(version, usable.Length, forest, frames, splines, _options);
        }
    }

    /// <summary>The forest is refitted when there is none, the observations are not the ones it saw plus new ones, or they grew enough.</summary>
    private bool NeedsForest(IReadOnlyList<Observation> observations, int usableCount)
    {
        if (_forest is null || observations.Count == 0) return true;
        var continues = observations.Count >= _seen && _seen > 0
            && ReferenceEquals(observations[0], _seenFirst) && ReferenceEquals(observations[_seen - 1], _seenLast);
        if (!continues) return true;
        return usableCount > _forest.ObservationCount * (1 + ForestRefitGrowth);
    }

    /// <summary>Moves the window to <paramref name="frames"/>: drops what fell out at the old end and adds what is new.</summary>
    private void Slide(SplineFrameSet frames)
    {
        var next = frames.Observations;
        // Where the new frames start in the window: everything before that fell out; the rest must be the same frames in order.
        var start = next.Length == 0 ? -1 : _windowFrames.FindIndex(o => ReferenceEquals(o, next[0]));
        var overlap = start < 0 ? 0 : _windowFrames.Count - start;
        var continues = _window is not null && _windowWithCRate == frames.WithCRate && start >= 0 && overlap <= next.Length;
        for (var i = 0; continues && i < overlap; i++) continues = ReferenceEquals(_windowFrames[start + i], next[i]);
        if (!continues)
        {
            _window = new PolyharmonicSplineWindow(frames.WithCRate ? 3 : 2, _options.EffectiveSmoothings);
            _windowWithCRate = frames.WithCRate;
            _windowFrames.Clear();
            start = 0;
            overlap = 0;
        }
        for (var i = 0; i < start; i++) _window!.RemoveOldest();
        _windowFrames.RemoveRange(0, start);
        for (var i = overlap; i < next.Length; i++)
        {
            _window!.Add(frames.Points[i], frames.Weights[i]);
            _windowFrames.Add(next[i]);
        }
    }
}
