using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Surrogate;

/// <summary>Settings of <see cref="GaussianProcessPhaseMap"/>.</summary>
/// <param name="LengthScalesMm">Candidate correlation lengths on the electrode; the fit keeps the one with the highest marginal likelihood.</param>
/// <param name="CRateLengthScale">Correlation length along |C-rate|.</param>
/// <param name="NoiseSpread">Measurement noise of a phase fraction; divided by 4·soc·(1 − soc) like the target.</param>
/// <param name="MaximumObservations">The newest this many frames are used: the fit is cubic in their number.</param>
/// <param name="MinimumObservations">Below this many usable frames there is no map.</param>
/// <param name="MinimumTwoPhaseWeight">Frames where 4·soc·(1 − soc) is below this are left out (see <see cref="ForestPhaseMapOptions.MinimumTwoPhaseWeight"/>).</param>
public sealed record GaussianProcessOptions(
    IReadOnlyList<double>? LengthScalesMm = null,
    double CRateLengthScale = 1.0,
    double NoiseSpread = 0.01,
    int MaximumObservations = 600,
    int MinimumObservations = 4,
    double MinimumTwoPhaseWeight = 0.2)
{
    public static GaussianProcessOptions Default { get; } = new();

    public IReadOnlyList<double> EffectiveLengthScalesMm => LengthScalesMm ?? [0.8, 1.2, 1.8, 2.7, 4.0];

    internal void Validate()
    {
        if (EffectiveLengthScalesMm.Count == 0 || EffectiveLengthScalesMm.Any(l => !(l > 0) || !double.IsFinite(l)))
            throw new ArgumentOutOfRangeException(nameof(LengthScalesMm), "length scales must be positive and at least one is needed");
        if (!(CRateLengthScale > 0) || !double.IsFinite(CRateLengthScale)) throw new ArgumentOutOfRangeException(nameof(CRateLengthScale), CRateLengthScale, "must be positive");
        if (!(NoiseSpread > 0) || !double.IsFinite(NoiseSpread)) throw new ArgumentOutOfRangeException(nameof(NoiseSpread), NoiseSpread, "must be positive");
        if (MinimumObservations < 2) throw new ArgumentOutOfRangeException(nameof(MinimumObservations), MinimumObservations, "must be >= 2");
        if (MaximumObservations < MinimumObservations) throw new ArgumentOutOfRangeException(nameof(MaximumObservations), MaximumObservations, "must be >= MinimumObservations");
        if (!(MinimumTwoPhaseWeight > 0 && MinimumTwoPhaseWeight < 1)) throw new ArgumentOutOfRangeException(nameof(MinimumTwoPhaseWeight), MinimumTwoPhaseWeight, "must lie in (0, 1)");
    }
}

/// <summary>
/// A Gaussian-process map of the same state-of-charge-free shape the normalised forest learns,
/// (phase fraction − soc) / (4·soc·(1 − soc)) over (x, y, |C-rate|), with a squared-exponential kernel. Smooth where the forest is
/// piecewise constant, and its spread is a calibrated posterior standard deviation rather than tree disagreement. An experimental
/// alternative to <see cref="ForestPhaseMap"/> for small runs: the fit is O(n³) and a spread O(n²), so it keeps the newest
/// <see cref="GaussianProcessOptions.MaximumObservations"/> frames.
/// </summary>
public sealed class GaussianProcessPhaseMap : IPhaseMap
{
    private readonly double[] _x, _y, _c;
    private readonly double[] _alpha;
    private readonly double[,] _cholesky;
    private readonly double _mean;
    private readonly double _signalVariance;
    private readonly double _lengthMm;
    private readonly double _cRateLength;

    private GaussianProcessPhaseMap(int version, double[] x, double[] y, double[] c, double[] alpha, double[,] cholesky,
        double mean, double signalVariance, double lengthMm, double cRateLength, double defaultCRate)
    {
        Version = version;
        _x = x; _y = y; _c = c; _alpha = alpha; _cholesky = cholesky;
        _mean = mean; _signalVariance = signalVariance; _lengthMm = lengthMm; _cRateLength = cRateLength;
        DefaultCRate = defaultCRate;
    }

    public int Version { get; }

    /// <summary>The correlation length the marginal likelihood chose.</summary>
    public double LengthScaleMm => _lengthMm;

    public int ObservationCount => _x.Length;

    /// <summary>|C-rate| of the newest fitted frame: the rate <see cref="Predict(double, double, double)"/> answers for.</summary>
    public double DefaultCRate { get; }

    public static GaussianProcessPhaseMap? Fit(IReadOnlyList<Observation> observations, int version, GaussianProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        options ??= GaussianProcessOptions.Default;
        options.Validate();
        var rows = observations
            .Where(ForestPhaseMap.IsUsable)
            .Where(o => double.IsFinite(o.CRate) && ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge) >= options.MinimumTwoPhaseWeight)
            .TakeLast(options.MaximumObservations)
            .ToArray();
        if (rows.Length < options.MinimumObservations) return null;
        var n = rows.Length;
        var x = rows.Select(o => o.XMm).ToArray();
        var y = rows.Select(o => o.YMm).ToArray();
        var c = rows.Select(o => Math.Abs(o.CRate)).ToArray();
        var weights = rows.Select(o => ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge)).ToArray();
        var z = rows.Select((o, i) => (o.PhaseFraction - o.StateOfCharge) / weights[i]).ToArray();
        var noise = weights.Select(w => options.NoiseSpread * options.NoiseSpread / (w * w)).ToArray();
        var mean = z.Average();
        var centred = z.Select(v => v - mean).ToArray();
        // The signal variance is the data's own (above the noise); the length is chosen by the marginal likelihood.
        var signal = Math.Max(centred.Sum(v => v * v) / n - noise.Average(), 1e-6);

        (double LogLikelihood, double Length, double[,] L, double[] Alpha)? best = null;
        foreach (var length in options.EffectiveLengthScalesMm)
        {
            var k = new double[n, n];
            for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
            {
                var v = Kernel(x[i] - x[j], y[i] - y[j], c[i] - c[j], signal, length, options.CRateLengthScale);
                k[i, j] = v; k[j, i] = v;
            }
            for (var i = 0; i < n; i++) k[i, i] += noise[i] + 1e-9 * signal;
            if (!Cholesky(k, n)) continue;
            var alpha = Solve(k, n, centred);
            var logDet = 0.0;
            for (var i = 0; i < n; i++) logDet += Math.Log(k[i, i]);
            var fit = 0.0;
            for (var i = 0; i < n; i++) fit += centred[i] * alpha[i];
            var logLikelihood = -0.5 * fit - logDet;
            if (best is null || logLikelihood > best.Value.LogLikelihood) best = (logLikelihood, length, k, alpha);
        }
        if (best is null) return null;
        return new GaussianProcessPhaseMap(version, x, y, c, best.Value.Alpha, best.Value.L, mean, signal, best.Value.Length,
            options.CRateLengthScale, c[^1]);
    }

    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge) => Predict(xMm, yMm, stateOfCharge, DefaultCRate);

    public (double Mean, double Spread) Predict(double xMm, double yMm, double stateOfCharge, double cRate)
    {
        var (shape, shapeSpread) = Shape(xMm, yMm, cRate);
        var weight = ForestPhaseMapOptions.TwoPhaseWeight(stateOfCharge);
        return (Math.Clamp(stateOfCharge + weight * shape, 0, 1), weight * shapeSpread);
    }

    /// <summary>Posterior mean and standard deviation of the shape at (x, y) and rate.</summary>
    public (double Mean, double Spread) Shape(double xMm, double yMm, double cRate)
    {
        var n = _x.Length;
        var k = new double[n];
        var mean = _mean;
        for (var i = 0; i < n; i++)
        {
            k[i] = Kernel(xMm - _x[i], yMm - _y[i], Math.Abs(cRate) - _c[i], _signalVariance, _lengthMm, _cRateLength);
            mean += k[i] * _alpha[i];
        }
        // v = L⁻¹ k; variance = σ² − v·v.
        var explained = 0.0;
        for (var i = 0; i < n; i++)
        {
            var sum = k[i];
            for (var j = 0; j < i; j++) sum -= _cholesky[i, j] * k[j];
            k[i] = sum / _cholesky[i, i];
            explained += k[i] * k[i];
        }
        return (mean, Math.Sqrt(Math.Max(0, _signalVariance - explained)));
    }

    private static double Kernel(double dx, double dy, double dc, double signal, double length, double cRateLength) =>
        signal * Math.Exp(-0.5 * ((dx * dx + dy * dy) / (length * length) + dc * dc / (cRateLength * cRateLength)));

    /// <summary>In-place lower Cholesky factor; false when the matrix is not positive definite.</summary>
    private static bool Cholesky(double[,] a, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var d = a[j, j];
            for (var k = 0; k < j; k++) d -= a[j, k] * a[j, k];
            if (!(d > 0)) return false;
            var l = Math.Sqrt(d);
            a[j, j] = l;
            for (var i = j + 1; i < n; i++)
            {
                var s = a[i, j];
                for (var k = 0; k < j; k++) s -= a[i, k] * a[j, k];
                a[i, j] = s / l;
            }
        }
        return true;
    }

    /// <summary>Solves L Lᵀ a = b with the factor in the lower triangle.</summary>
    private static double[] Solve(double[,] l, int n, double[] b)
    {
        var t = new double[n];
        for (var i = 0; i < n; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++) s -= l[i, k] * t[k];
            t[i] = s / l[i, i];
        }
        var a = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var s = t[i];
            for (var k = i + 1; k < n; k++) s -= l[k, i] * a[k];
            a[i] = s / l[i, i];
        }
        return a;
    }
}
