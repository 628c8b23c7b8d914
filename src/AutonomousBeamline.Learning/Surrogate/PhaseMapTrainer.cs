using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>
/// Keeps the phase map up to date without ever making a decision wait for a fit: observations are added as
/// they arrive, a background task refits on a snapshot of all of them, and the newest finished map is
/// published atomically through <see cref="Current"/>. Observations that arrive during a fit are picked up by
/// the next one; fits never run concurrently with each other, so the trainer uses at most one core.
/// </summary>
/// <remarks>
/// The default map is fitted incrementally (<see cref="HybridPhaseMapFitter"/>): every fit updates the correction spline with the
/// new frames in O(n²), and the ML.NET forest underneath, which cannot be warm-started, is refitted from scratch (see
/// <see cref="HybridPhaseMapFitter.DefaultForestRefitGrowth"/> for why not less often). Every published map still has a new, higher version (the one its
/// decisions record); its forest keeps the version of the fit that made it.
/// </remarks>
public sealed class PhaseMapTrainer : IDisposable
{
    private readonly object _gate = new();
    private readonly List<Observation> _observations = [];
    private readonly ForestPhaseMapOptions _options;
    private readonly Func<IReadOnlyList<Observation>, int, IPhaseMap?> _fit;
    private IPhaseMap? _current;
    private int _lastVersion;
    private bool _pending;
    private bool _running;
    private bool _disposed;
    private Task _training = Task.CompletedTask;
    private Exception? _lastError;
    private readonly IntervalCalibration _calibration = new();

    /// <param name="options">Forest settings; <see cref="ForestPhaseMapOptions.Default"/> when null.</param>
    /// <param name="fit">Another surrogate instead of the default (<see cref="FrameByFrame"/>), e.g. <c>(o, v) => GaussianProcessPhaseMap.Fit(o, v)</c>:
    /// observations and version in, a map (or null with too few observations) out. <paramref name="options"/> then only sets the minimum count.</param>
    public PhaseMapTrainer(ForestPhaseMapOptions? options = null, Func<IReadOnlyList<Observation>, int, IPhaseMap?>? fit = null)
    {
        _options = options ?? ForestPhaseMapOptions.Default;
        _options.Validate();
        _fit = fit ?? FrameByFrame(_options);
    }

    /// <summary>
    /// The trainer's default fit, for anything that wants the maps a run's trainer made (a replay): frame after frame with the
    /// correction spline updated and the forest refitted as <see cref="HybridPhaseMapFitter.DefaultForestRefitGrowth"/> says
    /// (<see cref="HybridPhaseMapFitter"/>); the forest alone when it is not normalised. Stateful: one per sequence of fits.
    /// </summary>
    public static Func<IReadOnlyList<Observation>, int, IPhaseMap?> FrameByFrame(ForestPhaseMapOptions? options = null)
    {
        options ??= ForestPhaseMapOptions.Default;
        if (!options.NormaliseByTwoPhaseWeight) return (observations, version) => ForestPhaseMap.Fit(observations, version, options);
        return new HybridPhaseMapFitter(HybridPhaseMapOptions.Default with { Forest = options }).Fit;
    }

    /// <summary>
    /// The product's map fitted from scratch on <paramref name="observations"/>: with a normalised forest (the default) the
    /// <see cref="HybridPhaseMap"/> — the ML.NET forest plus its smooth correction and calibrated error model; with a forest that
    /// is not normalised, that forest alone. (The trainer fits the same maps incrementally: <see cref="FrameByFrame"/>.)
    /// </summary>
    public static IPhaseMap? FitDefault(IReadOnlyList<Observation> observations, int version, ForestPhaseMapOptions? options = null)
    {
        options ??= ForestPhaseMapOptions.Default;
        return options.NormaliseByTwoPhaseWeight
            ? HybridPhaseMap.Fit(observations, version, HybridPhaseMapOptions.Default with { Forest = options })
            : ForestPhaseMap.Fit(observations, version, options);
    }

    /// <summary>The newest finished map, or null before the first fit with enough observations. Never blocks.</summary>
    public IPhaseMap? Current => Volatile.Read(ref _current);

    /// <summary>For a planner: <c>new LearnerRoiPlanner(space, () => trainer.Current, ...)</c>.</summary>
    public Func<IPhaseMap?> CurrentSource => () => Current;

    public int ObservationCount
    {
        get { lock (_gate) return _observations.Count; }
    }

    /// <summary>
    /// How often the published map's 90 % interval held on the frames added after it was published (the newest 100); null before
    /// the first check. For the dashboard and the report: a map whose intervals hold on far fewer than 90 % is overconfident.
    /// </summary>
    public MapCalibration? Calibration => _calibration.Current;

    /// <summary>The last exception a background fit threw (null when the last fit succeeded); the previous map stays published.</summary>
    public Exception? LastError => Volatile.Read(ref _lastError);

    /// <summary>Raised on the training thread after a new map is published.</summary>
    public event Action<IPhaseMap>? Published;

    /// <summary>
    /// Raised on the training thread with each new map just before it becomes <see cref="Current"/>: a reader that derives
    /// something costly from a map (<see cref="Acquisition.LearnerRoiPlanner.Prepare"/>: its spread over the planner's lattice) has
    /// it ready before any decision sees the map. A handler that throws is reported in <see cref="LastError"/>; the map is published.
    /// </summary>
    public event Action<IPhaseMap>? Publishing;

    /// <summary>
    /// A resumed run's model goes on numbering after the last version its decisions used, so the journal's version line
    /// never restarts at 1 (call before the first observation is added).
    /// </summary>
    public void ContinueVersionsAfter(int lastVersion)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lastVersion);
        Interlocked.Exchange(ref _lastVersion, Math.Max(Volatile.Read(ref _lastVersion), lastVersion));
    }

    /// <summary>Adds one observation and schedules a background refit.</summary>
    /// <returns>How the published map's 90 % interval held at the new frame (a held-out spot for it); null before the first
    /// map or for a frame that cannot be checked.</returns>
    public IntervalCheck? Add(Observation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        // Each new frame is a held-out spot for the map published before it.
        var check = Current is { } published ? _calibration.Check(published, observation) : null;
        Schedule([observation]);
        return check;
    }

    /// <summary>Adds observations (e.g. replayed from a journal) and schedules one background refit for all of them.</summary>
    public void AddRange(IEnumerable<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var added = observations as IReadOnlyCollection<Observation> ?? observations.ToArray();
        if (Current is { } published)
            foreach (var observation in added) _calibration.Check(published, observation);
        Schedule(added);
    }

    private void Schedule(IReadOnlyCollection<Observation> added)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _observations.AddRange(added);
            _pending = true;
            if (_running) return;
            _running = true;
            _training = Task.Run(TrainUntilCurrent);
        }
    }

    /// <summary>Completes when no fit is running or scheduled. For tests, evaluation and an orderly shutdown.</summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task training;
            lock (_gate)
            {
                if (!_running) return;
                training = _training;
            }
            await training.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Fits synchronously on exactly <paramref name="observations"/> (not the ones added), publishes the map if it
    /// is the newest, and returns it; null when there are too few usable observations.
    /// </summary>
    public IPhaseMap? Fit(IReadOnlyList<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        if (observations.Count(ForestPhaseMap.IsUsable) < _options.MinimumObservations) return null;
        var map = _fit(observations, NextVersion());
        if (map is not null) Publish(map);
        return map;
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
    }

    private void TrainUntilCurrent()
    {
        while (true)
        {
            Observation[] snapshot;
            lock (_gate)
            {
                if (!_pending || _disposed)
                {
                    _running = false;
                    return;
                }
                _pending = false;
                snapshot = _observations.ToArray();
            }
            try
            {
                if (snapshot.Count(ForestPhaseMap.IsUsable) < _options.MinimumObservations) continue;
                var map = _fit(snapshot, NextVersion());
                Volatile.Write(ref _lastError, null);
                if (map is not null) Publish(map);
            }
            catch (Exception ex)
            {
                // A failed fit must not stop learning: keep the previous map, report, and fit again on the next data.
                Volatile.Write(ref _lastError, ex);
            }
        }
    }

    private int NextVersion() => Interlocked.Increment(ref _lastVersion);

    private void Publish(IPhaseMap map)
    {
        if (Volatile.Read(ref _current) is { } newer && newer.Version >= map.Version) return;
        try { Publishing?.Invoke(map); }
        catch (Exception ex) { Volatile.Write(ref _lastError, ex); }
        while (true)
        {
            var current = Volatile.Read(ref _current);
            // A slower fit that started earlier must not replace a newer model.
            if (current is not null && current.Version >= map.Version) return;
            if (Interlocked.CompareExchange(ref _current, map, current) == current) break;
        }
        Published?.Invoke(map);
    }
}
