using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>Settings of <see cref="CRatePlanner"/>.</summary>
/// <param name="RateTolerance">An observation counts for a rate when its |C-rate| is this close to it.</param>
/// <param name="PriorUncertainty">Standard error assumed for the inhomogeneity at a rate with fewer than <paramref name="MinimumSamples"/> observations.</param>
/// <param name="MinimumSamples">Observations needed before a rate's spread is estimated from data.</param>
/// <param name="FrameTimeS">Beam time per frame (exposure, move, read-out): how many frames a step of a given length yields.</param>
/// <param name="MinimumStateOfChargeSpan">The shortest state-of-charge span a step is assumed to cover, so a step near the end of charge is not free.</param>
public sealed record CRatePlannerOptions(
    double RateTolerance = 0.05,
    double PriorUncertainty = 0.5,
    int MinimumSamples = 3,
    double FrameTimeS = 25,
    double MinimumStateOfChargeSpan = 0.05)
{
    public static CRatePlannerOptions Default { get; } = new();

    internal void Validate()
    {
        if (!(RateTolerance >= 0) || !double.IsFinite(RateTolerance)) throw new ArgumentOutOfRangeException(nameof(RateTolerance), RateTolerance, "must be >= 0");
        if (!(PriorUncertainty > 0) || !double.IsFinite(PriorUncertainty)) throw new ArgumentOutOfRangeException(nameof(PriorUncertainty), PriorUncertainty, "must be positive");
        if (MinimumSamples < 2) throw new ArgumentOutOfRangeException(nameof(MinimumSamples), MinimumSamples, "must be >= 2 (a spread needs two values)");
        if (!(FrameTimeS > 0) || !double.IsFinite(FrameTimeS)) throw new ArgumentOutOfRangeException(nameof(FrameTimeS), FrameTimeS, "must be positive");
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
/// maximum), to learn how the electrode's inhomogeneity depends on rate: the rate whose inhomogeneity estimate would lose the
/// most uncertainty per hour of cycling. The sign (charge or discharge) stays the protocol's. Pure: observations in, decision out.
/// </summary>
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
        var scores = estimates.Select(e =>
        {
            var hours = span / e.CRate;
            var newFrames = hours * 3600 / _options.FrameTimeS;
            // Expected standard error after the step: the data's spread if known, else the prior standing in for it.
            var spread = double.IsNaN(e.Inhomogeneity) ? _options.PriorUncertainty * Math.Sqrt(2.0) : e.Inhomogeneity;
            var after = spread / Math.Sqrt(2.0 * Math.Max(1, e.Samples + newFrames - 1));
            return Math.Max(0, e.Uncertainty - after) / hours;
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
            Reason = RoiGrid.Format($"{_rates[best]:0.##}C (max {MaxCRate:0.##}C): {known}, the most uncertainty removed per hour of cycling{runnerUp}"),
            ModelVersion = 0,
            Strategy = DecisionSource.Learner,
        };
    }
}
