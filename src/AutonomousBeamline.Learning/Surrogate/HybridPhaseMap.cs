using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>Settings of <see cref="HybridPhaseMap"/>.</summary>
/// <param name="Forest">The ML.NET forest underneath (must be normalised).</param>
/// <param name="Smoothings">Candidate nuggets of the residual spline, in shape units squared; the fit keeps the one with the
/// smallest leave-one-out error.</param>
/// <param name="CRateScaleMm">Millimetres on the electrode one unit of |C-rate| counts as in the spline.</param>
/// <param name="MaximumSplineObservations">The spline uses the newest this many frames (its fit is cubic in their number).</param>
/// <param name="LocalLengthMm">How far the leave-one-out errors of nearby frames speak for a spot's error.</param>
/// <param name="NoiseSpread">Measurement noise of a phase fraction: the spread right at a measured spot.</param>
/// <param name="MaximumDistanceUnits">Caps the growth of the spread with distance, in units of the frames' typical spacing.</param>
/// <param name="EdgeWeight">Weight of the edge term in the error the planner targets (<see cref="HybridPhaseMap.SpreadGrid"/>): a
/// spot at distance d from the nearest frame where the map's shape changes by |∇s| per mm is expected to be off by about
/// |∇s|·d, however small the held-out errors nearby were. 0 switches it off.</param>
/// <param name="Coverage">The central probability the published spread is calibrated for: mean ± 1.645·spread is then the
/// <c>Coverage</c> interval (for 0.9; in general ±z(Coverage)·spread with z the normal quantile).</param>
public sealed record HybridPhaseMapOptions(
    ForestPhaseMapOptions? Forest = null,
    IReadOnlyList<double>? Smoothings = null,
    double CRateScaleMm = 5.0,
    int MaximumSplineObservations = 400,
    double LocalLengthMm = 1.5,
    double NoiseSpread = 0.01,
    double MaximumDistanceUnits = 3.0,
    double EdgeWeight = 1.0,
    double Coverage = 0.9)
{
    public static HybridPhaseMapOptions Default { get; } = new();

    public ForestPhaseMapOptions EffectiveForest => Forest ?? ForestPhaseMapOptions.Default;

    public IReadOnlyList<double> EffectiveSmoothings => Smoothings ?? [1e-4, 1e-3, 1e-2, 1e-1];

    internal void Validate()
    {
        EffectiveForest.Validate();
        if (!EffectiveForest.NormaliseByTwoPhaseWeight) throw new ArgumentException("the hybrid map needs a normalised forest (NormaliseByTwoPhaseWeight)", nameof(Forest));
        if (EffectiveSmoothings.Count == 0 || EffectiveSmoothings.Any(s => !(s >= 0) || !double.IsFinite(s)))
            throw new ArgumentOutOfRangeException(nameof(Smoothings), "smoothings must be finite, >= 0, and at least one is needed");
        if (!(CRateScaleMm > 0) || !double.IsFinite(CRateScaleMm)) throw new ArgumentOutOfRangeException(nameof(CRateScaleMm), CRateScaleMm, "must be positive");
        if (MaximumSplineObservations < 8) throw new ArgumentOutOfRangeException(nameof(MaximumSplineObservations), MaximumSplineObservations, "must be >= 8");
        if (!(LocalLengthMm > 0) || !double.IsFinite(LocalLengthMm)) throw new ArgumentOutOfRangeException(nameof(LocalLengthMm), LocalLengthMm, "must be positive");
        if (!(NoiseSpread > 0) || !double.IsFinite(NoiseSpread)) throw new ArgumentOutOfRangeException(nameof(NoiseSpread), NoiseSpread, "must be positive");
        if (!(MaximumDistanceUnits > 0) || !double.IsFinite(MaximumDistanceUnits)) throw new ArgumentOutOfRangeException(nameof(MaximumDistanceUnits), MaximumDistanceUnits, "must be positive");
        if (!(EdgeWeight >= 0) || !double.IsFinite(EdgeWeight)) throw new ArgumentOutOfRangeException(nameof(EdgeWeight), EdgeWeight, "must be finite and >= 0");
        if (!(Coverage > 0.5 && Coverage < 1)) throw new ArgumentOutOfRangeException(nameof(Coverage), Coverage, "must lie in (0.5, 1)");
    }
}

/// <summary>
/// The ML.NET forest (the model of record: its trees, its version) plus a smooth correction and an error model that says where
/// the map is wrong. The correction is a smoothing thin-plate spline fitted to what the forest leaves over of the normalised
/// shape (regression kriging): the forest's axis-aligned steps take the sharp features, the spline the smooth remainder the
/// trees render as staircases. The spread is not the trees' disagreement but the map's own leave-one-out error, spread to the
/// spots around each frame and grown with the distance to the nearest frame, and scaled so that mean ± z·spread covers
/// <see cref="HybridPhaseMapOptions.Coverage"/> of the held-out errors (a jackknife, split-conformal calibration).
/// </summary>
public sealed class HybridPhaseMap : INormalisedPhaseMap
{
    private readonly ForestPhaseMap _forest;
    private readonly PolyharmonicSpline? _correction;
    private readonly bool _withCRate;
    private readonly double[] _cx, _cy, _cc; // the spline's centres in mm (c already scaled)
    private readonly double[] _squaredErrors; // leave-one-out error² per centre, shape units
    private readonly HybridPhaseMapOptions _options;
    private readonly MapIdentity _identity;

    private HybridPhaseMap(MapIdentity identity, ForestPhaseMap forest, PolyharmonicSpline? correction, bool withCRate, double[] cx, double[] cy, double[] cc,
        double[] squaredErrors, double typicalSpacingMm, double scale, double leaveOneOutRmse, HybridPhaseMapOptions options)
    {
        _identity = identity;
        _forest = forest; _correction = correction; _withCRate = withCRate;
        _cx = cx; _cy = cy; _cc = cc; _squaredErrors = squaredErrors;
        TypicalSpacingMm = typicalSpacingMm; CalibrationScale = scale; LeaveOneOutRmse = leaveOneOutRmse; _options = options;
    }

    /// <summary>
    /// The version decisions record. A fit on all frames gives it to the forest too; a fit that keeps an earlier forest and
    /// updates only the correction (<see cref="HybridPhaseMapFitter"/>) is a new model with a new version over that forest's.
    /// </summary>
    public int Version => _identity.Version;

    /// <summary>Usable observations (finite, inside the two-phase window) the map was fitted on; its forest may have seen fewer.</summary>
    public int ObservationCount => _identity.ObservationCount;

    /// <summary>The ML.NET forest underneath.</summary>
    public ForestPhaseMap Forest => _forest;

    public bool IsNormalised => true;

    /// <summary>|C-rate| of the newest fitted observation: the rate <see cref="Predict"/> answers for.</summary>
    public double DefaultCRate => _identity.DefaultCRate;

    /// <summary>Median distance between neighbouring frames (mm): the unit the spread grows in away from the data.</summary>
    public double TypicalSpacingMm { get; }

    /// <summary>The factor that makes the leave-one-out errors fall inside ±z·spread at the configured coverage.</summary>
    public double CalibrationScale { get; }

    /// <summary>Root-mean-square leave-one-out error of the shape, weighted like the fit: the map's own held-out error.</summary>
    public double LeaveOneOutRmse { get; }

    /// <summary>Fits the forest and the correction; null with too few usable observations for the forest.</summary>
    public static HybridPhaseMap? Fit(IReadOnlyList<Observation> observations, int version, HybridPhaseMapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        options ??= HybridPhaseMapOptions.Default;
        options.Validate();
        var forest = ForestPhaseMap.Fit(observations, version, options.EffectiveForest);
        if (forest is null) return null;
        var usable = Usable(observations, options);
        var frames = SplineFrames(usable, options);
        var residuals = Residuals(frames.Observations, forest);
        var splines = options.EffectiveSmoothings
            .Select(smoothing => PolyharmonicSpline.Fit(frames.Points, residuals, smoothing, frames.Weights, leaveOneOut: true)).ToArray();
        return Assemble(version, usable.Length, forest, frames, splines, options);
    }

    /// <summary>The observations the map learns from: finite, and inside the two-phase window its forest uses.</summary>
    internal static Observation[] Usable(IReadOnlyList<Observation> observations, HybridPhaseMapOptions options) =>
        observations.Where(ForestPhaseMap.IsUsable)
            .Where(o => ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge) >= options.EffectiveForest.MinimumTwoPhaseWeight).ToArray();

    /// <summary>The correction's frames (the newest <see cref="HybridPhaseMapOptions.MaximumSplineObservations"/>), their points in
    /// (x, y[, |C-rate|·scale]) — with the rate only when the frames were taken at more than one — and their weights.</summary>
    internal static SplineFrameSet SplineFrames(Observation[] usable, HybridPhaseMapOptions options)
    {
        var frames = usable.TakeLast(options.MaximumSplineObservations).ToArray();
        var withCRate = frames.Select(o => Math.Abs(o.CRate)).Distinct().Count() > 1;
        return new SplineFrameSet(frames, frames.Select(o => SplinePoint(o, withCRate, options)).ToArray(),
            frames.Select(SplineWeight).ToArray(), withCRate);
    }

    internal static double[] SplinePoint(Observation o, bool withCRate, HybridPhaseMapOptions options) => withCRate
        ? [o.XMm, o.YMm, Math.Abs(o.CRate) * options.CRateScaleMm]
        : [o.XMm, o.YMm];

    internal static double SplineWeight(Observation o) => Math.Pow(ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge), 2);

    /// <summary>What the forest leaves over of each frame's normalised shape: what the correction is fitted to.</summary>
    internal static double[] Residuals(IReadOnlyList<Observation> frames, ForestPhaseMap forest)
    {
        var residuals = new double[frames.Count];
        for (var i = 0; i < residuals.Length; i++)
        {
            var o = frames[i];
            var w = ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge);
            residuals[i] = (o.PhaseFraction - o.StateOfCharge) / w - forest.ShapeStatistics(o.XMm, o.YMm, o.CRate).Mean;
        }
        return residuals;
    }

    /// <summary>The map from a forest and the correction's candidate splines (one per smoothing, fitted on <paramref name="frames"/>).</summary>
    internal static HybridPhaseMap Assemble(int version, int observationCount, ForestPhaseMap forest, SplineFrameSet frames,
        IReadOnlyList<PolyharmonicSpline> splines, HybridPhaseMapOptions options)
    {
        var (points, weights, withCRate) = (frames.Points, frames.Weights, frames.WithCRate);
        // The nugget with the smallest leave-one-out error wins (the data, not a setting, say how rough the remainder is).
        PolyharmonicSpline? best = null;
        var bestError = double.PositiveInfinity;
        foreach (var spline in splines)
        {
            var error = WeightedMeanSquare(spline, weights);
            if (error < bestError) { best = spline; bestError = error; }
        }
        best ??= splines[0];
        var n = best.CentreCount;
        var cx = new double[n]; var cy = new double[n]; var cc = new double[n];
        var centreWeight = new double[n];
        for (var i = 0; i < points.Length; i++) centreWeight[best.CentreOfPoint[i]] += weights[i];
        for (var k = 0; k < n; k++)
        {
            var c = best.Centre(k);
            cx[k] = c[0]; cy[k] = c[1]; cc[k] = withCRate ? c[2] : 0;
        }
        // Without the forest's own out-of-sample error, the leave-one-out error of the correction stands for the map's. A centre
        // with no neighbour to be predicted from (n = 1) has no such error: it counts as the noise.
        var squared = best.LeaveOneOutResiduals!.Select(e => double.IsFinite(e) ? e * e : 0).ToArray();
        var spacing = TypicalSpacing(cx, cy, cc);
        var identity = new MapIdentity(version, observationCount, Math.Abs(frames.Observations[^1].CRate));
        var map = new HybridPhaseMap(identity, forest, n >= 2 ? best : null, withCRate, cx, cy, cc, squared, spacing, 1.0,
            Math.Sqrt(double.IsFinite(bestError) ? bestError : 0), options);
        return map.Calibrated(centreWeight);
    }

    /// <summary>The hybrid's mean and a spread that is calibrated for <see cref="HybridPhaseMapOptions.Coverage"/> with ±z·spread.</summary>
    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) =>
        Predict(xMm, yMm, stateOfCharge, DefaultCRate);

    /// <inheritdoc cref="Predict(double, double, double)"/>
    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge, double cRate)
    {
        var weight = ForestPhaseMapOptions.TwoPhaseWeight(stateOfCharge);
        var shape = Shape(xMm, yMm, cRate);
        var c = Math.Abs(cRate) * _options.CRateScaleMm;
        var (local, nearest) = LocalError(xMm, yMm, _withCRate ? c : 0, exclude: -1);
        return (Math.Clamp(stateOfCharge + weight * shape, 0, 1), weight * ShapeSpread(local, nearest));
    }

    /// <summary>The learned shape (phase fraction − soc) / (4·soc·(1 − soc)): forest plus correction.</summary>
    public double Shape(double xMm, double yMm, double cRate)
    {
        var forest = _forest.ShapeStatistics(xMm, yMm, cRate).Mean;
        if (_correction is null) return forest;
        var c = Math.Abs(cRate) * _options.CRateScaleMm;
        return forest + (_withCRate ? _correction.Evaluate([xMm, yMm, c]) : _correction.Evaluate([xMm, yMm]));
    }

    /// <summary>
    /// The error the planner should target on the grid xs × ys: the calibrated spread (see <see cref="Predict"/>) plus the edge
    /// term <see cref="HybridPhaseMapOptions.EdgeWeight"/>·|∇s|·d, with the gradient of the map's shape taken across the grid.
    /// </summary>
    public ShapeSpreadGrid SpreadGrid(IReadOnlyList<double> xs, IReadOnlyList<double> ys, double cRate)
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        var c = _withCRate ? Math.Abs(cRate) * _options.CRateScaleMm : 0;
        var nx = xs.Count; var ny = ys.Count;
        var atData = new double[nx * ny];
        var perUnit = new double[atData.Length];
        var shape = new double[atData.Length];
        var unit = CalibrationScale / NormalQuantile(_options.Coverage);
        for (var j = 0; j < ny; j++)
        for (var i = 0; i < nx; i++)
        {
            var k = j * nx + i;
            var (local, _) = LocalError(xs[i], ys[j], c, exclude: -1);
            atData[k] = unit * _options.NoiseSpread;
            perUnit[k] = unit * local;
            if (_options.EdgeWeight > 0) shape[k] = Shape(xs[i], ys[j], cRate);
        }
        if (_options.EdgeWeight > 0)
            for (var j = 0; j < ny; j++)
            for (var i = 0; i < nx; i++)
            {
                var gx = Difference(shape, j * nx, i, nx, 1, xs);
                var gy = Difference(shape, i, j, ny, nx, ys);
                // Per unit of typical spacing, so that the caller's min(d / spacing, cap) turns it into |∇s|·d.
                perUnit[j * nx + i] += _options.EdgeWeight * Math.Sqrt(gx * gx + gy * gy) * TypicalSpacingMm;
            }
        return new ShapeSpreadGrid(atData, perUnit, TypicalSpacingMm, _options.MaximumDistanceUnits);

        // Central difference along one grid line (one-sided at its ends), per mm.
        static double Difference(double[] values, int offset, int index, int count, int stride, IReadOnlyList<double> axis)
        {
            if (count < 2) return 0;
            var lo = Math.Max(0, index - 1); var hi = Math.Min(count - 1, index + 1);
            var span = axis[hi] - axis[lo];
            return span > 0 ? (values[offset + hi * stride] - values[offset + lo * stride]) / span : 0;
        }
    }

    private double ShapeSpread(double local, double nearestMm) =>
        CalibrationScale / NormalQuantile(_options.Coverage) *
        (_options.NoiseSpread + local * Math.Min(nearestMm / TypicalSpacingMm, _options.MaximumDistanceUnits));

    /// <summary>
    /// The leave-one-out errors of the centres near (x, y, c), as an RMS weighted by exp(−d²/ℓ²), and the distance to the nearest
    /// centre. <paramref name="exclude"/> leaves one centre out of both (for calibration at that centre).
    /// </summary>
    private (double Local, double NearestMm) LocalError(double x, double y, double c, int exclude)
    {
        double sum = 0, weights = 0, nearest = double.PositiveInfinity;
        var inverseLength = 1.0 / (_options.LocalLengthMm * _options.LocalLengthMm);
        for (var k = 0; k < _cx.Length; k++)
        {
            if (k == exclude) continue;
            var dx = x - _cx[k]; var dy = y - _cy[k]; var dc = c - _cc[k];
            var d2 = dx * dx + dy * dy + dc * dc;
            if (d2 < nearest) nearest = d2;
            var w = Math.Exp(-d2 * inverseLength) + 1e-6;
            sum += w * _squaredErrors[k];
            weights += w;
        }
        return (weights > 0 ? Math.Sqrt(sum / weights) : 0, Math.Sqrt(nearest));
    }

    /// <summary>
    /// Sets <see cref="CalibrationScale"/> so that, at each centre left out, its leave-one-out error falls inside ±z·spread (the
    /// spread built from the other centres, at that centre's distance from them) for the configured share of centres.
    /// </summary>
    private HybridPhaseMap Calibrated(double[] centreWeight)
    {
        if (_cx.Length < 5) return this;
        var z = NormalQuantile(_options.Coverage);
        var ratios = new double[_cx.Length];
        for (var k = 0; k < _cx.Length; k++)
        {
            var (local, nearest) = LocalError(_cx[k], _cy[k], _cc[k], exclude: k);
            // The noise of one frame in shape units grows as 1/weight; the centre's weight sums its frames' squared weights.
            var noise = _options.NoiseSpread / Math.Sqrt(Math.Max(1e-6, centreWeight[k]));
            var spread = (noise + local * Math.Min(nearest / TypicalSpacingMm, _options.MaximumDistanceUnits)) / z;
            ratios[k] = Math.Sqrt(_squaredErrors[k]) / spread;
        }
        Array.Sort(ratios);
        var quantile = ratios[(int)Math.Min(ratios.Length - 1, Math.Ceiling(_options.Coverage * (ratios.Length + 1)) - 1)];
        var scale = Math.Max(quantile / z, 1e-3);
        return new HybridPhaseMap(_identity, _forest, _correction, _withCRate, _cx, _cy, _cc, _squaredErrors, TypicalSpacingMm, scale, LeaveOneOutRmse, _options);
    }

    private static double WeightedMeanSquare(PolyharmonicSpline spline, double[] pointWeights)
    {
        var centreWeight = new double[spline.CentreCount];
        for (var i = 0; i < pointWeights.Length; i++) centreWeight[spline.CentreOfPoint[i]] += pointWeights[i];
        double sum = 0, total = 0;
        for (var k = 0; k < spline.CentreCount; k++)
        {
            var e = spline.LeaveOneOutResiduals![k];
            if (!double.IsFinite(e)) continue;
            sum += centreWeight[k] * e * e;
            total += centreWeight[k];
        }
        return total > 0 ? sum / total : double.PositiveInfinity;
    }

    private static double TypicalSpacing(double[] x, double[] y, double[] c)
    {
        if (x.Length < 2) return 1.0;
        var nearest = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var best = double.PositiveInfinity;
            for (var k = 0; k < x.Length; k++)
            {
                if (k == i) continue;
                var dx = x[i] - x[k]; var dy = y[i] - y[k]; var dc = c[i] - c[k];
                best = Math.Min(best, dx * dx + dy * dy + dc * dc);
            }
            nearest[i] = Math.Sqrt(best);
        }
        Array.Sort(nearest);
        return Math.Max(nearest[nearest.Length / 2], 1e-3);
    }

    /// <summary>z with P(|N(0,1)| ≤ z) = coverage.</summary>
    internal static double NormalQuantile(double coverage) =>
        MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, 0.5 + coverage / 2);
}

/// <summary>The frames the correction spline is fitted on, oldest first, as spline points with their weights.</summary>
internal sealed record SplineFrameSet(Observation[] Observations, double[][] Points, double[] Weights, bool WithCRate);

/// <summary>Which model a hybrid map is: its version, how many frames it learned from, and the rate it answers for.</summary>
internal sealed record MapIdentity(int Version, int ObservationCount, double DefaultCRate);
