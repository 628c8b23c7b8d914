using AutonomousBeamline.Core.Domain;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>Settings of <see cref="LearnerRoiPlanner"/>.</summary>
/// <param name="ColdStartCount">Until this many observations exist (or while there is no model), spots are chosen to fill the space.</param>
/// <param name="DistanceWeight">Score per unit distance to the nearest observation in (x, y, soc): the space-filling term.</param>
/// <param name="LengthScaleMm">Distance on the electrode that counts as one unit.</param>
/// <param name="StateOfChargeScale">State-of-charge difference that counts as one unit.</param>
/// <param name="MaximumDistanceUnits">Caps the distance term so it does not swamp the model's spread far from everything.</param>
/// <param name="ExplainedRadiusUnits">An observation this close (in units) already answers the model's uncertainty there, even
/// before the model has been refitted on it; the spread is damped by 1 - exp(-(d/r)²).</param>
/// <param name="CostOffsetS">Fixed time per frame (exposure, settling, read-out) added to the travel time.</param>
/// <param name="AlternativeCount">How many runner-up spots a decision records.</param>
public sealed record LearnerPlannerOptions(
    int ColdStartCount = 8,
    double DistanceWeight = 0.03,
    double LengthScaleMm = 5.0,
    double StateOfChargeScale = 0.2,
    double MaximumDistanceUnits = 4.0,
    double ExplainedRadiusUnits = 0.5,
    double CostOffsetS = 5.0,
    int AlternativeCount = 3)
{
    public static LearnerPlannerOptions Default { get; } = new();

    internal void Validate()
    {
        if (ColdStartCount < 1) throw new ArgumentOutOfRangeException(nameof(ColdStartCount), ColdStartCount, "must be >= 1");
        if (!(DistanceWeight >= 0)) throw new ArgumentOutOfRangeException(nameof(DistanceWeight), DistanceWeight, "must be >= 0");
        if (!(LengthScaleMm > 0)) throw new ArgumentOutOfRangeException(nameof(LengthScaleMm), LengthScaleMm, "must be positive");
        if (!(StateOfChargeScale > 0)) throw new ArgumentOutOfRangeException(nameof(StateOfChargeScale), StateOfChargeScale, "must be positive");
        if (!(MaximumDistanceUnits > 0)) throw new ArgumentOutOfRangeException(nameof(MaximumDistanceUnits), MaximumDistanceUnits, "must be positive");
        if (!(ExplainedRadiusUnits > 0)) throw new ArgumentOutOfRangeException(nameof(ExplainedRadiusUnits), ExplainedRadiusUnits, "must be positive");
        if (!(CostOffsetS > 0)) throw new ArgumentOutOfRangeException(nameof(CostOffsetS), CostOffsetS, "must be positive (it keeps a zero-travel move from dividing by zero)");
        if (AlternativeCount < 0) throw new ArgumentOutOfRangeException(nameof(AlternativeCount), AlternativeCount, "must be >= 0");
    }
}

/// <summary>
/// Chooses the next spot where a measurement teaches the map most per second of beamtime:
/// score = (model spread at the current state of charge + a space-filling distance term) / (fixed cost + travel time).
/// Before a model exists it fills the electrode by farthest-point sampling. Pure and reproducible: the same
/// observations, model, context and seed give the same decision.
/// </summary>
public sealed class LearnerRoiPlanner : IRoiPlanner
{
    private readonly (double X, double Y)[] _grid;
    private readonly Func<IPhaseMap?> _mapSource;
    private readonly AxisSpeeds _speeds;
    private readonly int _seed;
    private readonly LearnerPlannerOptions _options;

    /// <param name="space">The electrode rectangle and grid to choose from.</param>
    /// <param name="mapSource">The newest finished model, e.g. <c>trainer.CurrentSource</c>; may return null before the first fit.</param>
    /// <param name="speeds">Stage speeds, for the travel part of the cost.</param>
    /// <param name="seed">Breaks ties between equally good spots; the same seed decides the same.</param>
    /// <param name="options">Weights and cold start; <see cref="LearnerPlannerOptions.Default"/> when null.</param>
    public LearnerRoiPlanner(RoiSearchSpace space, Func<IPhaseMap?> mapSource, AxisSpeeds speeds, int seed = 0, LearnerPlannerOptions? options = null)
    {
        _grid = RoiGrid.Points(space);
        _mapSource = mapSource ?? throw new ArgumentNullException(nameof(mapSource));
        _speeds = speeds ?? throw new ArgumentNullException(nameof(speeds));
        _speeds.Validate();
        _seed = seed;
        _options = options ?? LearnerPlannerOptions.Default;
        _options.Validate();
        Space = space;
    }

    public RoiSearchSpace Space { get; }

    public string Strategy => "learner";

    public Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context)
    {
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentNullException.ThrowIfNull(context);
        if (!double.IsFinite(context.StateOfCharge) || !double.IsFinite(context.CurrentXMm) || !double.IsFinite(context.CurrentYMm))
            throw new ArgumentException($"decision context must be finite, got x={context.CurrentXMm} y={context.CurrentYMm} soc={context.StateOfCharge}", nameof(context));
        var usable = observations.Where(o => double.IsFinite(o.XMm) && double.IsFinite(o.YMm) && double.IsFinite(o.StateOfCharge)).ToArray();
        var map = _mapSource();
        var jitter = TieBreakers(observations.Count);
        return map is null || usable.Length < _options.ColdStartCount
            ? ColdStart(usable, jitter, map)
            : Informed(usable, context, map, jitter);
    }

    private Decision ColdStart(Observation[] observations, double[] jitter, IPhaseMap? map)
    {
        var centerX = (Space.XMinMm + Space.XMaxMm) / 2;
        var centerY = (Space.YMinMm + Space.YMaxMm) / 2;
        var scores = new double[_grid.Length];
        for (var i = 0; i < _grid.Length; i++)
        {
            var (x, y) = _grid[i];
            // The first spot goes to the middle (closest to everything); afterwards, as far as possible from every spot so far.
            scores[i] = observations.Length == 0
                ? -Math.Sqrt((x - centerX) * (x - centerX) + (y - centerY) * (y - centerY))
                : NearestInPlaneMm(observations, x, y);
        }
        var ranked = Rank(scores, jitter);
        var best = ranked[0];
        var reason = observations.Length == 0
            ? RoiGrid.Format($"cold start: no measurement yet, starting at the centre of the electrode")
            : RoiGrid.Format($"cold start ({observations.Length} of {_options.ColdStartCount} spots, {(map is null ? "no model yet" : "model not yet trusted")}): {scores[best]:F1} mm from the nearest measurement, filling the electrode");
        return Build(ranked, scores, reason, map?.Version ?? 0);
    }

    private Decision Informed(Observation[] observations, RoiContext context, IPhaseMap map, double[] jitter)
    {
        var scores = new double[_grid.Length];
        var spreads = new double[_grid.Length];
        var distances = new double[_grid.Length];
        var soc = Math.Clamp(context.StateOfCharge, 0, 1);
        for (var i = 0; i < _grid.Length; i++)
        {
            var (x, y) = _grid[i];
            var spread = map.Predict(x, y, soc).Spread;
            if (!double.IsFinite(spread) || spread < 0) spread = 0;
            var distance = Math.Min(NearestScaled(observations, x, y, soc), _options.MaximumDistanceUnits);
            var explained = distance / _options.ExplainedRadiusUnits;
            var utility = spread * (1 - Math.Exp(-explained * explained)) + _options.DistanceWeight * distance;
            var cost = _options.CostOffsetS + _speeds.TravelTimeS(context.CurrentXMm, context.CurrentYMm, x, y);
            scores[i] = utility / cost;
            spreads[i] = spread;
            distances[i] = distance;
        }
        var ranked = Rank(scores, jitter);
        var best = ranked[0];
        var (bx, by) = _grid[best];
        var reason = RoiGrid.Format(
            $"highest predicted spread {spreads[best]:F3} at SOC {soc:F2}, {NearestInPlaneMm(observations, bx, by):F1} mm from the nearest measurement, {_speeds.TravelTimeS(context.CurrentXMm, context.CurrentYMm, bx, by):F1} s of travel");
        return Build(ranked, scores, reason, map.Version);
    }

    private Decision Build(int[] ranked, double[] scores, string reason, int modelVersion)
    {
        var best = ranked[0];
        return new Decision
        {
            Kind = DecisionKinds.Roi,
            Values = RoiGrid.Values(_grid[best].X, _grid[best].Y),
            Score = scores[best],
            Alternatives = ranked.Skip(1).Take(_options.AlternativeCount)
                .Select(i => new DecisionOption(RoiGrid.Values(_grid[i].X, _grid[i].Y), scores[i])).ToArray(),
            Reason = reason,
            ModelVersion = modelVersion,
            Strategy = Strategy,
        };
    }

    /// <summary>Indices of the best <see cref="LearnerPlannerOptions.AlternativeCount"/> + 1 candidates, best first; equal scores ordered by the seeded jitter.</summary>
    private int[] Rank(double[] scores, double[] jitter)
    {
        var take = Math.Min(_grid.Length, _options.AlternativeCount + 1);
        var best = new List<int>(take + 1);
        for (var i = 0; i < scores.Length; i++)
        {
            var position = best.Count;
            while (position > 0 && Better(i, best[position - 1])) position--;
            if (position < take)
            {
                best.Insert(position, i);
                if (best.Count > take) best.RemoveAt(best.Count - 1);
            }
        }
        return best.ToArray();

        bool Better(int a, int b) => scores[a] > scores[b] || (scores[a] == scores[b] && jitter[a] > jitter[b]);
    }

    private double[] TieBreakers(int observationCount)
    {
        var rng = RoiGrid.DecisionRandom(_seed, observationCount);
        var jitter = new double[_grid.Length];
        for (var i = 0; i < jitter.Length; i++) jitter[i] = rng.NextDouble();
        return jitter;
    }

    private double NearestScaled(Observation[] observations, double x, double y, double soc)
    {
        var best = double.PositiveInfinity;
        foreach (var o in observations)
        {
            var dx = (x - o.XMm) / _options.LengthScaleMm;
            var dy = (y - o.YMm) / _options.LengthScaleMm;
            var ds = (soc - o.StateOfCharge) / _options.StateOfChargeScale;
            best = Math.Min(best, dx * dx + dy * dy + ds * ds);
        }
        return Math.Sqrt(best);
    }

    private static double NearestInPlaneMm(Observation[] observations, double x, double y)
    {
        var best = double.PositiveInfinity;
        foreach (var o in observations)
            best = Math.Min(best, (x - o.XMm) * (x - o.XMm) + (y - o.YMm) * (y - o.YMm));
        return Math.Sqrt(best);
    }
}
