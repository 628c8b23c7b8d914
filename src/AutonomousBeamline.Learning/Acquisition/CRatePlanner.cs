using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>Settings of <see cref="CRatePlanner"/>.</summary>
/// <param name="RateTolerance">An observation counts for a rate when its |C-rate| is this close to it.</param>
/// <param name="PriorUncertainty">Standard error assumed for the inhomogeneity at a rate with fewer than <paramref name="MinimumSamples"/> observations.</param>
/// <param name="MinimumSamples">Observations needed before a rate's spread is estimated from data.</param>
/// <param name="FrameTimeS">Beam time per frame (exposure, move, read-out): how many frames a step of a given length yields.</param>
/// <param name="MinimumStateOfChargeSpan">The shortest state-of-charge span a step is assumed to cover, so a step near the end of charge is not free.</param>
/// <param name="PriorIntercept">Prior mean of the inhomogeneity extrapolated to rate 0 (a resting cell's own unevenness), shape units.</param>
/// <param name="PriorSlope">Prior mean of how much the inhomogeneity grows per 1C (transport limits leave regions behind at higher rates).</param>
/// <param name="PriorSpread">Prior standard deviation of both: broad, so a few steps of data outweigh it.</param>
/// <param name="ModelDiscrepancy">How far the response at one rate may depart from any line (standard deviation): what an
/// untried rate can still reveal once the line is pinned by others.</param>
public sealed record CRatePlannerOptions(
    double RateTolerance = 0.05,
    double PriorUncertainty = 0.5,
    int MinimumSamples = 3,
    double FrameTimeS = 25,
    double MinimumStateOfChargeSpan = 0.05,
    double PriorIntercept = 0.1,
    double PriorSlope = 0.1,
    double PriorSpread = 0.2,
    double ModelDiscrepancy = 0.05)
{
    public static CRatePlannerOptions Default { get; } = new();

    internal void Validate()
    {
        if (!(RateTolerance >= 0) || !double.IsFinite(RateTolerance)) throw new ArgumentOutOfRangeException(nameof(RateTolerance), RateTolerance, "must be >= 0");
        if (!(PriorUncertainty > 0) || !double.IsFinite(PriorUncertainty)) throw new ArgumentOutOfRangeException(nameof(PriorUncertainty), PriorUncertainty, "must be positive");
        if (MinimumSamples < 2) throw new ArgumentOutOfRangeException(nameof(MinimumSamples), MinimumSamples, "must be >= 2 (a spread needs two values)");
        if (!(FrameTimeS > 0) || !double.IsFinite(FrameTimeS)) throw new ArgumentOutOfRangeException(nameof(FrameTimeS), FrameTimeS, "must be positive");
        if (!double.IsFinite(PriorIntercept) || !double.IsFinite(PriorSlope)) throw new ArgumentOutOfRangeException(nameof(PriorIntercept), "prior means must be finite");
        if (!(PriorSpread > 0) || !double.IsFinite(PriorSpread)) throw new ArgumentOutOfRangeException(nameof(PriorSpread), PriorSpread, "must be positive");
        if (!(ModelDiscrepancy > 0) || !double.IsFinite(ModelDiscrepancy)) throw new ArgumentOutOfRangeException(nameof(ModelDiscrepancy), ModelDiscrepancy, "must be positive");
        if (!(MinimumStateOfChargeSpan > 0 && MinimumStateOfChargeSpan <= 1)) throw new ArgumentOutOfRangeException(nameof(MinimumStateOfChargeSpan), MinimumStateOfChargeSpan, "must lie in (0, 1]");
    }
}

/// <summary>What the observations say about the electrode's inhomogeneity at one C-rate.</summary>
/// <param name="CRate">The rate (magnitude).</param>
/// <param name="Samples">Observations taken at it that carry information (not at an empty or full cell).</param>
/// <param name="Inhomogeneity">Standard deviation across the electrode of (phase fraction − soc) / (4·soc·(1 − soc)); NaN with too few samples.</param>
/// <param name="Uncertainty">Standard error of that estimate (the prior with too few samples).</param>
public sealed record RateEstimate(double CRate, int Samples, double Inhomogeneity, double Uncertainty);

/// <summary>
/// Chooses the magnitude of the next constant-current step's C-rate among the allowed rates (never above the envelope's
/// maximum), to learn how the electrode's inhomogeneity responds to rate: the rate whose step would teach the most about that
/// response per hour of cycling. The sign (charge or discharge) stays the protocol's. Pure: observations in, decision out.
/// </summary>
/// <remarks>
/// The response is modelled as a line, inhomogeneity(r) = α + β·r, with a broad Gaussian prior on (α, β)
/// (<see cref="CRatePlannerOptions.PriorIntercept"/>, <see cref="CRatePlannerOptions.PriorSlope"/>, <see cref="CRatePlannerOptions.PriorSpread"/>),
/// plus a departure from the line at each rate (<see cref="CRatePlannerOptions.ModelDiscrepancy"/>); every rate measured so far
/// adds its estimate with its standard error. A candidate step at rate r over the state of charge left would yield
/// hours·3600 / frame time frames and shrink that rate's standard error; its worth is the information it adds about the
/// response at the allowed rates, ½·ln(det Σ_before / det Σ_after), per hour of the step. So the first choice (no frame
/// yet) comes from the priors — the leverage a rate has on the slope against the frames its step yields — and later ones from
/// the measured response: a well-measured rate adds little, a rate far from the measured ones pins the slope.
/// </remarks>
/// <remarks>
/// The inhomogeneity at a rate is the spread, across the electrode, of the deviation of the local phase fraction from the cell's
/// state of charge, divided by 4·soc·(1 − soc) (how strongly a two-phase electrode can deviate at that state of charge), so
/// frames from anywhere in a step count alike. Its standard error shrinks as 1/√(2(n − 1)); a step at rate r over a span Δsoc
/// lasts Δsoc/r hours and yields that time over the frame time in new frames.
/// </remarks>
public sealed class CRatePlanner
{
    private readonly double[] _rates;
    private readonly CRatePlannerOptions _options;

    /// <param name="allowedCRates">The configured rates (<c>search.c_rates</c>), magnitudes.</param>
    /// <param name="maxCRate">The safety envelope's maximum C-rate; rates above it are never proposed.</param>
    /// <param name="options">Tolerances and costs; <see cref="CRatePlannerOptions.Default"/> when null.</param>
    public CRatePlanner(IReadOnlyList<double> allowedCRates, double maxCRate, CRatePlannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(allowedCRates);
        if (!(maxCRate > 0) || !double.IsFinite(maxCRate)) throw new ArgumentOutOfRangeException(nameof(maxCRate), maxCRate, "the envelope's maximum C-rate must be positive");
        _options = options ?? CRatePlannerOptions.Default;
        _options.Validate();
        foreach (var rate in allowedCRates)
            if (!(rate > 0) || !double.IsFinite(rate)) throw new ArgumentException($"allowed C-rates must be positive and finite, got {rate}", nameof(allowedCRates));
        _rates = allowedCRates.Where(r => r <= maxCRate).Distinct().Order().ToArray();
        if (_rates.Length == 0)
            throw new ArgumentException(RoiGrid.Format($"none of the allowed C-rates [{string.Join(", ", allowedCRates)}] is within the envelope's maximum of {maxCRate}C"), nameof(allowedCRates));
        MaxCRate = maxCRate;
    }

    /// <summary>The rates this planner chooses from: the allowed ones at or below the envelope's maximum, ascending.</summary>
    public IReadOnlyList<double> Rates => _rates;

    public double MaxCRate { get; }

    /// <summary>What the observations say at each candidate rate.</summary>
    public IReadOnlyList<RateEstimate> Estimate(IReadOnlyList<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        return _rates.Select(rate =>
        {
            var values = observations
                .Where(o => double.IsFinite(o.CRate) && Math.Abs(Math.Abs(o.CRate) - rate) <= _options.RateTolerance)
                .Where(o => double.IsFinite(o.PhaseFraction) && double.IsFinite(o.StateOfCharge))
                .Select(o => (Value: o.PhaseFraction - o.StateOfCharge, Weight: ForestPhaseMapOptions.TwoPhaseWeight(o.StateOfCharge)))
                .Where(v => v.Weight >= ForestPhaseMapOptions.Default.MinimumTwoPhaseWeight)
                .Select(v => v.Value / v.Weight)
                .ToArray();
            if (values.Length < _options.MinimumSamples) return new RateEstimate(rate, values.Length, double.NaN, _options.PriorUncertainty);
            var mean = values.Average();
            var spread = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
            return new RateEstimate(rate, values.Length, spread, spread / Math.Sqrt(2.0 * (values.Length - 1)));
        }).ToArray();
    }

    /// <summary>The next CC step's C-rate magnitude. Values: <c>c_rate</c>. Alternatives: every other allowed rate with its score.</summary>
    /// <param name="observations">All observations so far (their <see cref="Observation.CRate"/> says which rate each belongs to).</param>
    /// <param name="stateOfCharge">The cell's state of charge now.</param>
    /// <param name="charging">Direction of the coming step: it runs towards a full (true) or an empty (false) cell.</param>
    public Decision NextCRate(IReadOnlyList<Observation> observations, double stateOfCharge, bool charging)
    {
        ArgumentNullException.ThrowIfNull(observations);
        if (!double.IsFinite(stateOfCharge)) throw new ArgumentOutOfRangeException(nameof(stateOfCharge), stateOfCharge, "state of charge must be finite");
        var soc = Math.Clamp(stateOfCharge, 0, 1);
        var span = Math.Max(_options.MinimumStateOfChargeSpan, charging ? 1 - soc : soc);
        var estimates = Estimate(observations);
        var posterior = Posterior(estimates);
        var scores = estimates.Select((e, index) =>
        {
            var hours = span / e.CRate;
            var newFrames = hours * 3600 / _options.FrameTimeS;
            // The inhomogeneity expected at this rate: measured if known, else the response line's prediction.
            var spread = double.IsNaN(e.Inhomogeneity) ? Math.Max(MinimumInhomogeneity, posterior.Predict(index)) : e.Inhomogeneity;
            var before = double.IsNaN(e.Inhomogeneity) ? 0 : Precision(e.Uncertainty);
            var after = Precision(spread / Math.Sqrt(2.0 * Math.Max(1, e.Samples + newFrames - 1)));
            return posterior.InformationGain(index, Math.Max(0, after - before)) / hours;
        }).ToArray();
        var order = Enumerable.Range(0, _rates.Length).OrderByDescending(i => scores[i]).ThenBy(i => _rates[i]).ToArray();
        var best = order[0];
        var chosen = estimates[best];
        var known = chosen.Samples >= _options.MinimumSamples
            ? RoiGrid.Format($"inhomogeneity {chosen.Inhomogeneity:F3} ± {chosen.Uncertainty:F3} from {chosen.Samples} frames")
            : RoiGrid.Format($"only {chosen.Samples} frames so far");
        var runnerUp = order.Length > 1
            ? RoiGrid.Format($"; next best {_rates[order[1]]:0.##}C ({estimates[order[1]].Samples} frames)")
            : "";
        return new Decision
        {
            Kind = DecisionKind.CRate,
            Values = new Dictionary<string, double> { ["c_rate"] = _rates[best] },
            Score = scores[best],
            Alternatives = order.Skip(1).Select(i => new DecisionOption(new Dictionary<string, double> { ["c_rate"] = _rates[i] }, scores[i])).ToArray(),
            Reason = RoiGrid.Format($"{_rates[best]:0.##}C (max {MaxCRate:0.##}C): {known}, the most learned per hour of cycling about the inhomogeneity's response to rate (now about {posterior.Line().Intercept:F3} + {posterior.Line().Slope:F3}/C){runnerUp}"),
            ModelVersion = 0,
            Strategy = DecisionSource.Learner,
        };
    }

    /// <summary>
    /// What the observations have taught about the inhomogeneity at the allowed rates beyond the prior: ½·ln(det Σ₀ / det Σ) of
    /// the response's posterior covariance, in nats. For comparing C-rate choices (information per hour of cycling).
    /// </summary>
    public double ResponseInformation(IReadOnlyList<Observation> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        return Posterior(Estimate(observations)).Information;
    }

    // An inhomogeneity estimate cannot be trusted below this (noise of a frame, shape units): keeps a precision finite.
    private const double MinimumInhomogeneity = 0.01;

    private static double Precision(double standardError) => 1 / Math.Pow(Math.Max(standardError, MinimumInhomogeneity / 10), 2);

    /// <summary>The posterior of the inhomogeneity at every allowed rate from the prior and every rate with an estimate.</summary>
    private ResponsePosterior Posterior(IReadOnlyList<RateEstimate> estimates)
    {
        var posterior = ResponsePosterior.Prior(_rates, _options);
        for (var i = 0; i < estimates.Count; i++)
            if (!double.IsNaN(estimates[i].Inhomogeneity)) posterior.Add(i, estimates[i].Inhomogeneity, Precision(estimates[i].Uncertainty));
        return posterior;
    }

    /// <summary>
    /// A Gaussian over the inhomogeneity at each allowed rate: the line α + β·r with the prior on (α, β), plus an independent
    /// departure from the line of <see cref="CRatePlannerOptions.ModelDiscrepancy"/> at each rate (the response need not be a
    /// line), updated by each rate's estimate as an independent measurement (a Kalman update).
    /// </summary>
    private sealed class ResponsePosterior
    {
        private readonly double[] _rates;
        private readonly double[] _mean;
        private readonly double[,] _covariance;
        private readonly double _priorLogDeterminant;

        private ResponsePosterior(double[] rates, double[] mean, double[,] covariance)
        {
            _rates = rates; _mean = mean; _covariance = covariance;
            _priorLogDeterminant = LogDeterminant();
        }

        public static ResponsePosterior Prior(double[] rates, CRatePlannerOptions options)
        {
            var n = rates.Length;
            var spread2 = options.PriorSpread * options.PriorSpread;
            var covariance = new double[n, n];
            for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                covariance[i, j] = spread2 * (1 + rates[i] * rates[j]) + (i == j ? options.ModelDiscrepancy * options.ModelDiscrepancy : 0);
            return new ResponsePosterior(rates, rates.Select(r => options.PriorIntercept + options.PriorSlope * r).ToArray(), covariance);
        }

        /// <summary>The fitted response, read as a line through the first and last rate (for the reason text).</summary>
        public (double Intercept, double Slope) Line()
        {
            if (_rates.Length < 2) return (_mean[0], 0);
            var slope = (_mean[^1] - _mean[0]) / (_rates[^1] - _rates[0]);
            return (_mean[0] - slope * _rates[0], slope);
        }

        public double Predict(int index) => _mean[index];

        /// <summary>½·ln(1 + w·Σᵢᵢ): what a measurement of precision w at rate i adds.</summary>
        public double InformationGain(int index, double addedPrecision) => 0.5 * Math.Log(1 + addedPrecision * _covariance[index, index]);

        /// <summary>½·ln(det Σ₀ / det Σ): everything learned so far, in nats.</summary>
        public double Information => 0.5 * (_priorLogDeterminant - LogDeterminant());

        public void Add(int index, double value, double precision)
        {
            var n = _rates.Length;
            var column = new double[n];
            for (var i = 0; i < n; i++) column[i] = _covariance[i, index];
            var denominator = column[index] + 1 / precision;
            var innovation = value - _mean[index];
            for (var i = 0; i < n; i++)
            {
                _mean[i] += column[i] / denominator * innovation;
                for (var j = 0; j < n; j++) _covariance[i, j] -= column[i] * column[j] / denominator;
            }
        }

        private double LogDeterminant()
        {
            var n = _rates.Length;
            var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (i, j) => _covariance[i, j]);
            return m.Cholesky().DeterminantLn;
        }
    }
}
