using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Surrogate;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>Settings of <see cref="LearnerRoiPlanner"/>.</summary>
/// <param name="ColdStartCount">Until this many observations exist (or while there is no model), spots are chosen to fill the space.</param>
/// <param name="DistanceWeight">Utility per unit distance to the nearest observation: the space-filling term.</param>
/// <param name="LengthScaleMm">Distance on the electrode that counts as one unit.</param>
/// <param name="StateOfChargeScale">State-of-charge difference that counts as one unit (only for maps whose spread depends on it).</param>
/// <param name="MaximumDistanceUnits">Caps the distance term so it does not swamp the model's spread far from everything.</param>
/// <param name="ExplainedRadiusUnits">An observation this close (in units) already answers the model's uncertainty there, even
/// before the model has been refitted on it; the variance is damped by 1 - exp(-(d/r)²).</param>
/// <param name="CostOffsetS">Fixed time per frame (exposure, settling, read-out) added to the travel time: the offset of the cost line.</param>
/// <param name="AlternativeCount">How many runner-up spots a decision records.</param>
/// <param name="InfluenceLengthMm">How far one measurement reduces the map's variance: the correlation length of the integrated
/// variance reduction. A spot is worth what it removes from the whole map, not only its own spread.</param>
/// <param name="NoiseSpread">Measurement noise in phase-fraction units: a spot the model already knows to this level teaches little.</param>
/// <param name="DoseBudgetS">Seconds of beam a spot may receive in total (beam damage); a spot whose dose within
/// <paramref name="DoseRadiusMm"/> plus one more frame would exceed it is not proposed. Infinity: no limit.</param>
/// <param name="DoseRadiusMm">Observations closer than this to a spot count towards its dose (the beam footprint and then some).</param>
/// <param name="FrameExposureS">Dose of one frame, for the next frame and for observations that do not record their exposure.</param>
/// <param name="CoarseStepMm">Coarse first: the map's error and the variance a frame removes are weighed on a lattice of about this
/// step (never finer than the grid); fine where it matters: the <paramref name="RefinedCells"/> best lattice cells are then searched
/// at the grid's own step (the beam footprint). A grid at least this coarse is searched whole.</param>
/// <param name="RefinedCells">How many of the best lattice cells are searched at the grid's step.</param>
/// <param name="MapSpreadWeight">Weight of the map's variance a spot removes (the integrated variance reduction) in the utility.</param>
/// <param name="NonlinearityWeight">Weight of the data's own error estimate, LOLA-Voronoi style: a spot at distance d (in units)
/// from its nearest observation is worth d·√(E² + floor²), E the <see cref="LocalNonlinearity"/> of that observation (how far its
/// neighbours depart from a plane through it: the size of a jump or a thin feature nearby), in phase-fraction units at the
/// current state of charge. Model-free: it finds edges from the measured values whatever the map makes of them. 0 switches it off.</param>
/// <param name="NonlinearityNeighbours">How many nearest observations the plane of <see cref="LocalNonlinearity"/> is fitted to.</param>
/// <param name="ProjectionWeight">How strongly the nonlinearity term prefers spots on grid columns and rows that few frames share
/// (see <c>ProjectionFactor</c>): spread in x and y alone, not only in the plane. 0 switches it off.</param>
/// <param name="NonlinearityFloor">The nonlinearity (shape units) a stretch with no measured departure from a plane is still
/// credited with: with it the term is d·floor on smooth ground, farthest-point sampling, which covers what no frame has tested.</param>
/// <param name="FillGuardFactor">The safeguard against leaving a hole: when the widest hole — the largest distance from an allowed
/// spot to its nearest frame — is wider than this many times the fill distance of a square lattice of as many frames over the
/// electrode (spacing √(area / frames), fill distance that over √2), the decision fills it instead (the farthest spot, weighed by
/// the projection factor), whatever the utility says. A planner that chases edges never leaves the rest of the electrode much
/// less covered than a space-filling design would. 0 (the default) switches it off: at 2, part e's worst field and the fields more
/// than 10 % worse than random improved a little, but the pooled medians lost (docs/benchmarks.md, "Spot choice (e)").</param>
/// <param name="SpaceFillingEvery">A mixture with space filling: every this-many-th informed decision is a farthest-spot one
/// (weighed by the projection factor). 0 (the default) switches it off.</param>
/// <param name="RandomEvery">A mixture with random spots: every this-many-th informed decision is a random allowed spot (seeded,
/// reproducible). 0 (the default) switches it off.</param>
/// <param name="Values">How the map reads an observation's value (the map's <see cref="ForestPhaseMapOptions.Values"/>): the
/// nonlinearity is measured on the same values. The noise, the distance weight and the floor above are on a fraction's scale;
/// for a target in its own unit (<see cref="MapValues.Raw"/>) they are multiplied by the values' <see cref="ValueScale"/>, so
/// the same field in Å or in eV is sampled at the same spots.</param>
public sealed record LearnerPlannerOptions(
    int ColdStartCount = 8,
    double DistanceWeight = 0.003,
    double LengthScaleMm = 5.0,
    double StateOfChargeScale = 0.2,
    double MaximumDistanceUnits = 4.0,
    double ExplainedRadiusUnits = 0.4,
    double CostOffsetS = 5.0,
    int AlternativeCount = 3,
    double InfluenceLengthMm = 1.5,
    double NoiseSpread = 0.01,
    double DoseBudgetS = double.PositiveInfinity,
    double DoseRadiusMm = 0.25,
    double FrameExposureS = 5.0,
    double CoarseStepMm = 0.375,
    int RefinedCells = 6,
    double MapSpreadWeight = 1.0,
    double NonlinearityWeight = 5.0,
    int NonlinearityNeighbours = 8,
    double NonlinearityFloor = 0.02,
    double ProjectionWeight = 3.0,
    double FillGuardFactor = 0,
    int SpaceFillingEvery = 0,
    int RandomEvery = 0,
    MapValues Values = MapValues.TwoPhaseShape)
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
        if (!(InfluenceLengthMm > 0) || !double.IsFinite(InfluenceLengthMm)) throw new ArgumentOutOfRangeException(nameof(InfluenceLengthMm), InfluenceLengthMm, "must be positive");
        if (!(NoiseSpread > 0) || !double.IsFinite(NoiseSpread)) throw new ArgumentOutOfRangeException(nameof(NoiseSpread), NoiseSpread, "must be positive");
        if (!(DoseBudgetS > 0)) throw new ArgumentOutOfRangeException(nameof(DoseBudgetS), DoseBudgetS, "must be positive (infinity for no limit)");
        if (!(DoseRadiusMm >= 0) || !double.IsFinite(DoseRadiusMm)) throw new ArgumentOutOfRangeException(nameof(DoseRadiusMm), DoseRadiusMm, "must be >= 0");
        if (!(FrameExposureS > 0) || !double.IsFinite(FrameExposureS)) throw new ArgumentOutOfRangeException(nameof(FrameExposureS), FrameExposureS, "must be positive");
        if (!(CoarseStepMm > 0) || !double.IsFinite(CoarseStepMm)) throw new ArgumentOutOfRangeException(nameof(CoarseStepMm), CoarseStepMm, "must be positive");
        if (RefinedCells < 1) throw new ArgumentOutOfRangeException(nameof(RefinedCells), RefinedCells, "must be >= 1");
        if (!(MapSpreadWeight >= 0) || !double.IsFinite(MapSpreadWeight)) throw new ArgumentOutOfRangeException(nameof(MapSpreadWeight), MapSpreadWeight, "must be finite and >= 0");
        if (!(NonlinearityWeight >= 0) || !double.IsFinite(NonlinearityWeight)) throw new ArgumentOutOfRangeException(nameof(NonlinearityWeight), NonlinearityWeight, "must be finite and >= 0");
        if (NonlinearityNeighbours < 3) throw new ArgumentOutOfRangeException(nameof(NonlinearityNeighbours), NonlinearityNeighbours, "must be >= 3 (a plane through a point has two slopes)");
        if (!(ProjectionWeight >= 0) || !double.IsFinite(ProjectionWeight)) throw new ArgumentOutOfRangeException(nameof(ProjectionWeight), ProjectionWeight, "must be finite and >= 0");
        if (!(NonlinearityFloor >= 0) || !double.IsFinite(NonlinearityFloor)) throw new ArgumentOutOfRangeException(nameof(NonlinearityFloor), NonlinearityFloor, "must be finite and >= 0");
        if (!(FillGuardFactor >= 0) || !double.IsFinite(FillGuardFactor)) throw new ArgumentOutOfRangeException(nameof(FillGuardFactor), FillGuardFactor, "must be finite and >= 0 (0 switches the guard off)");
        if (RandomEvery < 0) throw new ArgumentOutOfRangeException(nameof(RandomEvery), RandomEvery, "must be >= 0 (0 switches the mixture off)");
        if (SpaceFillingEvery < 0) throw new ArgumentOutOfRangeException(nameof(SpaceFillingEvery), SpaceFillingEvery, "must be >= 0 (0 switches the mixture off)");
    }
}

/// <summary>A rectangle of the electrode an operator has closed to the planner (a crack, a tab, a damaged spot). Edges included.</summary>
public sealed record RoiRectangle(double XMinMm, double XMaxMm, double YMinMm, double YMaxMm)
{
    public bool Contains(double xMm, double yMm) => xMm >= XMinMm && xMm <= XMaxMm && yMm >= YMinMm && yMm <= YMaxMm;

    internal void Validate()
    {
        if (!double.IsFinite(XMinMm) || !double.IsFinite(XMaxMm) || !double.IsFinite(YMinMm) || !double.IsFinite(YMaxMm))
            throw new ArgumentException($"excluded rectangle must have finite edges, got x {XMinMm}..{XMaxMm}, y {YMinMm}..{YMaxMm}");
        if (XMaxMm < XMinMm || YMaxMm < YMinMm)
            throw new ArgumentException($"excluded rectangle is empty: x {XMinMm}..{XMaxMm}, y {YMinMm}..{YMaxMm} mm");
    }
}

/// <summary>
/// Chooses the next spot where a measurement teaches the map most per second of beamtime:
/// score = (map variance the spot removes over its neighbourhood + a space-filling term + the measurements' own error estimate,
/// distance × the local nonlinearity of the nearest frame, LOLA-Voronoi style) / (fixed cost + travel time),
/// among the spots that are neither excluded by the operator nor over their dose budget, at the cell's current state of
/// charge only (time, and so the state of charge, cannot go back). Before a model exists it fills the electrode by
/// farthest-point sampling. Pure and reproducible: the same observations, model, context, exclusions and seed give the
/// same decision.
/// </summary>
/// <remarks>
/// With a normalised map (<see cref="INormalisedPhaseMap"/>: the forest or the hybrid) the spread does not depend on the state of charge, so the planner computes the
/// map's spread over the grid once per model version and keeps per-spot distances and doses up to date as observations are
/// appended; a decision then costs a blur of the coarse lattice, a pass over the grid's distances and the refinement of the best
/// cells, whatever the number of observations. On a grid finer than <see cref="LearnerPlannerOptions.CoarseStepMm"/> the variance is
/// weighed on the lattice only (the influence length spans several lattice steps, so little is lost) and the grid's own step, the
/// beam footprint, is searched only in the best <see cref="LearnerPlannerOptions.RefinedCells"/> cells: coarse where the map is
/// flat, fine where its error (with a hybrid map: the held-out error and the edges) is.
/// </remarks>
public sealed class LearnerRoiPlanner : IRoiPlanner
{
    private readonly (double X, double Y)[] _grid;
    private readonly int _nx;
    private readonly int _ny;
    private readonly Func<IPhaseMap?> _mapSource;
    private readonly AxisSpeeds _speeds;
    private readonly int _seed;
    private readonly LearnerPlannerOptions _options;
    private readonly double[] _kernel;
    private readonly object _gate = new();
    private RoiRectangle[] _exclusions = [];

    // Per-spot state kept in step with the observations (see Track): nearest squared in-plane distance, which usable observation
    // that is (its index in _nonlinearity), and accumulated dose.
    private readonly double[] _nearestSquared;
    private readonly int[] _nearestObservation;
    private readonly double[] _dose;
    private LocalNonlinearity _nonlinearity;
    // The scale of the values tracked (see LearnerPlannerOptions.Values).
    private ValueScale _valueScale = new();
    // How many usable frames lie on each grid column and row (for the projection factor).
    private readonly int[] _columnUse;
    private readonly int[] _rowUse;

    // Scratch grids reused by every decision (decisions are serialised by the gate): a decision on 10,000 candidates would
    // otherwise allocate close to a megabyte and put the garbage collector on the decision path.
    private readonly double[] _spreads;
    private readonly double[] _explained;
    private readonly double[] _variance;
    private readonly double[] _rows;
    private readonly double[] _removable;
    private readonly double[] _scores;
    private readonly bool[] _allowed;

    // Coarse first, then fine: the lattice the error is weighed on (every _stride-th grid point each way), the lattice cell each
    // grid point belongs to, and the grid points a decision scores.
    private readonly int _stride;
    private readonly int _coarseNx;
    private readonly int _coarseNy;
    private readonly int[] _coarse;
    private readonly int[] _cellOf;
    private readonly List<int> _candidates = [];
    private readonly HashSet<int> _refined = [];
    private int _decisionSeed;
    private Observation? _firstTracked;
    private Observation? _lastTracked;
    private int _tracked;
    private int _usableTracked;

    // The normalised map's shape spread over the grid, for one map version and rate.
    private ShapeSpreadGrid? _shapeSpread;
    private IPhaseMap? _shapeSpreadMap;
    private double _shapeSpreadCRate;

    // The lattice's coordinates, and a map's spread over it evaluated ahead of its first decision (see Prepare).
    private readonly double[] _latticeXs;
    private readonly double[] _latticeYs;
    private PreparedSpread? _prepared;
    private double _lastCRate = double.NaN;

    /// <param name="space">The electrode rectangle and grid to choose from.</param>
    /// <param name="mapSource">The newest finished model, e.g. <c>trainer.CurrentSource</c>; may return null before the first fit.</param>
    /// <param name="speeds">Stage speeds, for the travel part of the cost.</param>
    /// <param name="seed">Breaks ties between equally good spots; the same seed decides the same.</param>
    /// <param name="options">Weights, cold start and dose budget; <see cref="LearnerPlannerOptions.Default"/> when null.</param>
    public LearnerRoiPlanner(RoiSearchSpace space, Func<IPhaseMap?> mapSource, AxisSpeeds speeds, int seed = 0, LearnerPlannerOptions? options = null)
    {
        _grid = RoiGrid.Points(space);
        _nx = (int)Math.Floor((space.XMaxMm - space.XMinMm) / space.StepMm + 1e-9) + 1;
        _ny = _grid.Length / _nx;
        _mapSource = mapSource ?? throw new ArgumentNullException(nameof(mapSource));
        _speeds = speeds ?? throw new ArgumentNullException(nameof(speeds));
        _speeds.Validate();
        _seed = seed;
        _options = options ?? LearnerPlannerOptions.Default;
        _options.Validate();
        Space = space;
        _stride = Math.Max(1, (int)Math.Floor(_options.CoarseStepMm / space.StepMm + 1e-9));
        var columns = Enumerable.Range(0, (_nx - 1) / _stride + 1).Select(c => c * _stride).ToArray();
        var rowsOfLattice = Enumerable.Range(0, (_ny - 1) / _stride + 1).Select(r => r * _stride).ToArray();
        _coarseNx = columns.Length;
        _coarseNy = rowsOfLattice.Length;
        _coarse = rowsOfLattice.SelectMany(j => columns.Select(i => j * _nx + i)).ToArray();
        _cellOf = new int[_grid.Length];
        for (var j = 0; j < _ny; j++)
        for (var i = 0; i < _nx; i++)
            _cellOf[j * _nx + i] = Math.Min(_coarseNy - 1, (j + _stride / 2) / _stride) * _coarseNx + Math.Min(_coarseNx - 1, (i + _stride / 2) / _stride);
        _latticeXs = Enumerable.Range(0, _coarseNx).Select(c => _grid[_coarse[c]].X).ToArray();
        _latticeYs = Enumerable.Range(0, _coarseNy).Select(r => _grid[_coarse[r * _coarseNx]].Y).ToArray();
        _kernel = SquaredCorrelationKernel(space.StepMm * _stride, _options.InfluenceLengthMm, Math.Max(_coarseNx, _coarseNy));
        _nearestSquared = new double[_grid.Length];
        _nearestObservation = new int[_grid.Length];
        _columnUse = new int[_nx];
        _rowUse = new int[_ny];
        _dose = new double[_grid.Length];
        _nonlinearity = new LocalNonlinearity(_options.NonlinearityNeighbours);
        _spreads = new double[_coarse.Length];
        _explained = new double[_coarse.Length];
        _variance = new double[_coarse.Length];
        _rows = new double[_coarse.Length];
        _removable = new double[_coarse.Length];
        _scores = new double[_grid.Length];
        _allowed = new bool[_grid.Length];
        ResetTracking();
    }

    public RoiSearchSpace Space { get; }

    /// <summary>The planner's settings.</summary>
    public LearnerPlannerOptions Options => _options;

    public DecisionSource Strategy => DecisionSource.Learner;

    /// <summary>The rectangles currently closed to the planner.</summary>
    public IReadOnlyList<RoiRectangle> Exclusions => Volatile.Read(ref _exclusions);

    /// <summary>Closes a rectangle of the electrode to the planner from the next decision on. Safe to call from any thread.</summary>
    public void Exclude(RoiRectangle rectangle)
    {
        ArgumentNullException.ThrowIfNull(rectangle);
        rectangle.Validate();
        lock (_gate) Volatile.Write(ref _exclusions, [.. _exclusions, rectangle]);
    }

    /// <summary>Opens the whole electrode again. Safe to call from any thread.</summary>
    public void ClearExclusions()
    {
        lock (_gate) Volatile.Write(ref _exclusions, []);
    }

    /// <summary>
    /// Evaluates a new map's spread over the planner's lattice ahead of time, on the caller's thread — wire it to
    /// <see cref="PhaseMapTrainer.Publishing"/>, which runs on the training thread before the map becomes current — so that the
    /// first decision on the map does not pay for it (tens of milliseconds for the hybrid, whose error model weighs every lattice
    /// point against its spline's centres). At the rate of the last decision; before any, at the map's newest frame's rate (the
    /// forest and the hybrid know it) or 1C. Safe to call from any thread; maps whose spread depends on the state of charge need
    /// nothing prepared.
    /// </summary>
    public void Prepare(IPhaseMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map is not INormalisedPhaseMap { IsNormalised: true } normalised) return;
        var rate = Volatile.Read(ref _lastCRate);
        if (!double.IsFinite(rate)) rate = map switch { HybridPhaseMap h => h.DefaultCRate, ForestPhaseMap f => f.DefaultCRate, _ => 1.0 };
        Volatile.Write(ref _prepared, new PreparedSpread(map, Math.Abs(rate), normalised.SpreadGrid(_latticeXs, _latticeYs, rate)));
    }

    public Decision NextRoi(IReadOnlyList<Observation> observations, RoiContext context)
    {
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentNullException.ThrowIfNull(context);
        if (!double.IsFinite(context.StateOfCharge) || !double.IsFinite(context.CurrentXMm) || !double.IsFinite(context.CurrentYMm))
            throw new ArgumentException($"decision context must be finite, got x={context.CurrentXMm} y={context.CurrentYMm} soc={context.StateOfCharge}", nameof(context));
        lock (_gate)
        {
            Track(observations);
            var allowed = AllowedSpots(out var excludedByOperator, out var overDose);
            var map = _mapSource();
            _decisionSeed = RoiGrid.DecisionRandom(_seed, observations.Count).Next();
            var closed = Closed(excludedByOperator, overDose);
            if (map is null || _usableTracked < _options.ColdStartCount) return ColdStart(allowed, map, closed);
            return SpaceFilling(allowed, map, closed) ?? Informed(observations, allowed, context, map, closed);
        }
    }

    private Decision ColdStart(bool[] allowed, IPhaseMap? map, string closed)
    {
        var centerX = (Space.XMinMm + Space.XMaxMm) / 2;
        var centerY = (Space.YMinMm + Space.YMaxMm) / 2;
        var scores = _scores;
        for (var i = 0; i < _grid.Length; i++)
        {
            var (x, y) = _grid[i];
            // The first spot goes to the middle (closest to everything); afterwards, as far as possible from every spot so far.
            scores[i] = _usableTracked == 0
                ? -Math.Sqrt((x - centerX) * (x - centerX) + (y - centerY) * (y - centerY))
                : Math.Sqrt(_nearestSquared[i]);
        }
        _candidates.Clear();
        for (var i = 0; i < _grid.Length; i++) _candidates.Add(i);
        var ranked = Rank(scores, allowed);
        var best = ranked[0];
        var reason = _usableTracked == 0
            ? RoiGrid.Format($"cold start: no measurement yet, starting nearest the centre of the electrode{closed}")
            : RoiGrid.Format($"cold start ({_usableTracked} of {_options.ColdStartCount} spots, {(map is null ? "no model yet" : "model not yet trusted")}): {scores[best]:F1} mm from the nearest measurement, filling the electrode{closed}");
        return Build(ranked, scores, reason, map?.Version ?? 0);
    }

    /// <summary>
    /// The safeguard and the mixture (<see cref="LearnerPlannerOptions.FillGuardFactor"/>, <see cref="LearnerPlannerOptions.SpaceFillingEvery"/>):
    /// the farthest allowed spot from every frame, weighed by the projection factor, when a hole is too wide or it is a
    /// space-filling turn; null otherwise (the informed decision then runs).
    /// </summary>
    private Decision? SpaceFilling(bool[] allowed, IPhaseMap map, string closed)
    {
        if (_options.RandomEvery > 0 && (_usableTracked - _options.ColdStartCount) % _options.RandomEvery == _options.RandomEvery - 1)
        {
            var open = new List<int>();
            for (var i = 0; i < _grid.Length; i++) if (allowed[i]) open.Add(i);
            var pick = open[new Random(_decisionSeed).Next(open.Count)];
            Array.Clear(_scores);
            _scores[pick] = 1;
            _candidates.Clear();
            _candidates.AddRange(open);
            return Build(Rank(_scores, allowed), _scores, RoiGrid.Format($"random turn (one decision in {_options.RandomEvery}){closed}"), map.Version);
        }
        var turn = _options.SpaceFillingEvery > 0 && (_usableTracked - _options.ColdStartCount) % _options.SpaceFillingEvery == _options.SpaceFillingEvery - 1;
        if (!turn && _options.FillGuardFactor == 0) return null;
        var widestSquared = 0.0;
        for (var i = 0; i < _grid.Length; i++)
            if (allowed[i] && _nearestSquared[i] > widestSquared) widestSquared = _nearestSquared[i];
        var widest = Math.Sqrt(widestSquared);
        var lattice = LatticeFillDistanceMm(_usableTracked);
        var hole = _options.FillGuardFactor > 0 && widest > _options.FillGuardFactor * lattice;
        if (!turn && !hole) return null;
        var scores = _scores;
        _candidates.Clear();
        for (var i = 0; i < _grid.Length; i++)
        {
            scores[i] = Math.Sqrt(_nearestSquared[i]) * ProjectionFactor(i);
            _candidates.Add(i);
        }
        var ranked = Rank(scores, allowed);
        var best = ranked[0];
        var why = hole
            ? RoiGrid.Format($"filling a hole: the widest is {widest:F2} mm from the nearest measurement, more than {_options.FillGuardFactor} × a lattice's {lattice:F2} mm for {_usableTracked} frames")
            : RoiGrid.Format($"space-filling turn (one decision in {_options.SpaceFillingEvery})");
        return Build(ranked, scores, RoiGrid.Format($"{why}; this spot {Math.Sqrt(_nearestSquared[best]):F2} mm from the nearest{closed}"), map.Version);
    }

    /// <summary>The fill distance of a square lattice of <paramref name="frames"/> points over the search space: spacing √(area / frames), over √2.</summary>
    private double LatticeFillDistanceMm(int frames)
    {
        var area = Math.Max((Space.XMaxMm - Space.XMinMm) * (Space.YMaxMm - Space.YMinMm), Space.StepMm * Space.StepMm);
        return Math.Sqrt(area / Math.Max(1, frames)) / Math.Sqrt(2);
    }

    private Decision Informed(IReadOnlyList<Observation> observations, bool[] allowed, RoiContext context, IPhaseMap map, string closed)
    {
        var soc = Math.Clamp(context.StateOfCharge, 0, 1);
        var spreads = SpreadField(observations, map, soc, context.CRate, out var explainedDistance);
        var noise = _options.NoiseSpread * Scale * (_options.NoiseSpread * Scale);

        // Coarse first: the variance left at each lattice point once what fresh observations already explain is taken off ...
        var variance = _variance;
        for (var k = 0; k < variance.Length; k++)
        {
            var spread = spreads[k];
            var explained = explainedDistance[k] / _options.ExplainedRadiusUnits;
            variance[k] = spread * spread * (1 - Math.Exp(-explained * explained));
        }
        // ... and what a measurement in each cell removes: about ρ²(g, c)·σ²(g) at every g.
        var removable = Blur(variance);

        var scores = _scores;
        _candidates.Clear();
        if (_stride == 1)
        {
            // The grid is the lattice: every spot is scored.
            for (var i = 0; i < _grid.Length; i++) _candidates.Add(i);
        }
        else
        {
            // Then fine where it matters: the best lattice cells are searched at the grid's own step.
            for (var k = 0; k < _coarse.Length; k++) scores[_coarse[k]] = Score(_coarse[k], k);
            foreach (var cell in BestCells(scores))
            {
                var ci = _coarse[cell] % _nx; var cj = _coarse[cell] / _nx;
                for (var j = Math.Max(0, cj - _stride); j <= Math.Min(_ny - 1, cj + _stride); j++)
                for (var i = Math.Max(0, ci - _stride); i <= Math.Min(_nx - 1, ci + _stride); i++)
                    _refined.Add(j * _nx + i);
            }
            _candidates.AddRange(_refined);
            _refined.Clear();
        }
        foreach (var i in _candidates) scores[i] = Score(i, _cellOf[i]);
        var ranked = Rank(scores, allowed);
        var best = ranked[0];
        var (bx, by) = _grid[best];
        var cellOfBest = _cellOf[best];
        // Significant digits: the spread is in the target's unit, which need not be a fraction's scale (a lattice parameter's is 1e-4 Å).
        var reason = RoiGrid.Format(
            $"most map variance removed per second: spread {MapQuantity.Significant(SpreadAt(best, cellOfBest))} here, {MapQuantity.Significant(Math.Sqrt(removable[cellOfBest]))} around, at the current SOC {soc:F2}, {Math.Sqrt(_nearestSquared[best]):F1} mm from the nearest measurement{(_options.NonlinearityWeight > 0 && _nonlinearity.Count > 0 ? RoiGrid.Format($" (whose neighbours depart {MapQuantity.Significant(_nonlinearity.At(_nearestObservation[best]))} from a plane)") : "")}, {_speeds.TravelTimeS(context.CurrentXMm, context.CurrentYMm, bx, by):F1} s of travel{(_stride > 1 ? RoiGrid.Format($", refined to {Space.StepMm} mm in the best {_options.RefinedCells} of {_coarse.Length} cells") : "")}{closed}");
        return Build(ranked, scores, reason, map.Version);

        double Score(int i, int cell)
        {
            var (x, y) = _grid[i];
            var spread = SpreadAt(i, cell);
            var explained = ExplainedAt(i, cell) / _options.ExplainedRadiusUnits;
            var own = spread * spread * (1 - Math.Exp(-explained * explained));
            var informative = own / (own + noise);
            var distance = Math.Min(Math.Sqrt(_nearestSquared[i]) / _options.LengthScaleMm, _options.MaximumDistanceUnits);
            var utility = _options.MapSpreadWeight * Math.Sqrt(Math.Max(0, removable[cell] * informative)) + _options.DistanceWeight * Scale * distance
                + NonlinearityTerm(i, distance, soc);
            return utility / (_options.CostOffsetS + _speeds.TravelTimeS(context.CurrentXMm, context.CurrentYMm, x, y));
        }

        bool Normalised() => _shapeSpread is not null && ReferenceEquals(_shapeSpreadMap, map);

        // How far (in units) the frames that speak for a grid point are: in the plane for a normalised map, in (x, y, soc) at
        // the cell's point otherwise.
        double ExplainedAt(int i, int cell) => Normalised() ? Math.Sqrt(_nearestSquared[i]) / _options.LengthScaleMm : explainedDistance[cell];

        // A grid point's spread: from its cell's model terms at its own distance for a normalised map, the cell's value otherwise.
        double SpreadAt(int i, int cell) => Normalised()
            ? Math.Max(0, ForestPhaseMapOptions.TwoPhaseWeight(soc) * _shapeSpread!.Spread(cell, Math.Sqrt(_nearestSquared[i])))
            : spreads[cell];
    }

    /// <summary>
    /// The LOLA-Voronoi part of a spot's utility: its distance to the nearest observation times that observation's nonlinearity
    /// (floored), in phase-fraction units at the current state of charge: about the error a spline through the data makes there.
    /// </summary>
    private double NonlinearityTerm(int i, double distanceUnits, double soc)
    {
        if (_options.NonlinearityWeight == 0 || _nonlinearity.Count == 0) return 0;
        var e = _nonlinearity.At(_nearestObservation[i]);
        var floor = _options.NonlinearityFloor * Scale;
        return ProjectionFactor(i) * _options.NonlinearityWeight * ShapeWeight(soc) * distanceUnits * Math.Sqrt(e * e + floor * floor);
    }

    /// <summary>The scale of the planner's fraction-scale settings: 1, or the tracked values' for a target in its own unit.</summary>
    private double Scale => _options.Values == MapValues.Raw ? _valueScale.Scale : 1;

    /// <summary>What a unit of the values the nonlinearity is measured on is worth at this state of charge: 4·soc·(1 − soc) for the two-phase shape, 1 otherwise.</summary>
    private double ShapeWeight(double soc) =>
        _options.Values == MapValues.TwoPhaseShape ? ForestPhaseMapOptions.TwoPhaseWeight(soc) : 1;

    /// <summary>
    /// 1 / (1 + w·(uses of the spot's grid column / their mean + uses of its row / their mean)): a spot in a column and a row
    /// few frames share is preferred. Distance alone builds a lattice, which suits an interpolator but not the forest under the
    /// map: frames on a few columns and rows give its axis-aligned splits a few positions only, and its steps fall between them.
    /// </summary>
    private double ProjectionFactor(int i)
    {
        if (_options.ProjectionWeight == 0) return 1;
        var perColumn = Math.Max(1.0, (double)_usableTracked / _nx);
        var perRow = Math.Max(1.0, (double)_usableTracked / _ny);
        return 1 / (1 + _options.ProjectionWeight * (_columnUse[i % _nx] / perColumn + _rowUse[i / _nx] / perRow));
    }

    /// <summary>The <see cref="LearnerPlannerOptions.RefinedCells"/> lattice cells whose own point scores best.</summary>
    private IEnumerable<int> BestCells(double[] scores)
    {
        var take = Math.Min(_coarse.Length, _options.RefinedCells);
        var best = new List<int>(take + 1);
        for (var k = 0; k < _coarse.Length; k++)
        {
            var position = best.Count;
            while (position > 0 && scores[_coarse[k]] > scores[_coarse[best[position - 1]]]) position--;
            if (position >= take) continue;
            best.Insert(position, k);
            if (best.Count > take) best.RemoveAt(best.Count - 1);
        }
        return best;
    }

    /// <summary>
    /// The map's spread of the phase fraction at each spot at the current state of charge, and the distance (in units) from each
    /// spot to the observations that already speak for it there.
    /// </summary>
    private double[] SpreadField(IReadOnlyList<Observation> observations, IPhaseMap map, double soc, double cRate, out double[] explainedDistance)
    {
        var spreads = _spreads;
        explainedDistance = _explained;
        if (map is INormalisedPhaseMap { IsNormalised: true } normalised)
        {
            // The shape holds at every state of charge, so every past spot speaks for today and the spread scales with 4·soc·(1 − soc).
            Volatile.Write(ref _lastCRate, cRate);
            if (!ReferenceEquals(_shapeSpreadMap, map) || _shapeSpreadCRate != Math.Abs(cRate) || _shapeSpread is null)
            {
                // Only the model's part here: the distance part comes from the planner's own up-to-date distances below, which are
                // cheaper than the map's search over every observation and already include frames the map has not seen yet.
                _shapeSpread = Volatile.Read(ref _prepared) is { } prepared && ReferenceEquals(prepared.Map, map) && prepared.CRate == Math.Abs(cRate)
                    ? prepared.Grid
                    : normalised.SpreadGrid(_latticeXs, _latticeYs, cRate);
                _shapeSpreadMap = map;
                _shapeSpreadCRate = Math.Abs(cRate);
            }
            var weight = ForestPhaseMapOptions.TwoPhaseWeight(soc);
            for (var k = 0; k < _coarse.Length; k++)
            {
                var nearestMm = Math.Sqrt(_nearestSquared[_coarse[k]]);
                spreads[k] = Clean(weight * _shapeSpread.Spread(k, nearestMm));
                explainedDistance[k] = nearestMm / _options.LengthScaleMm;
            }
            return spreads;
        }

        // Any other map: its spread depends on the state of charge, and only observations near it in (x, y, soc) explain a spot.
        _shapeSpread = null;
        _shapeSpreadMap = null;
        var usable = observations.Where(IsUsable).ToArray();
        for (var k = 0; k < _coarse.Length; k++)
        {
            var (x, y) = _grid[_coarse[k]];
            spreads[k] = Clean(map.Predict(x, y, soc).Spread);
            explainedDistance[k] = NearestScaled(usable, x, y, soc);
        }
        return spreads;

        static double Clean(double spread) => double.IsFinite(spread) && spread > 0 ? spread : 0;
    }

    private Decision Build(int[] ranked, double[] scores, string reason, int modelVersion)
    {
        var best = ranked[0];
        return new Decision
        {
            Kind = DecisionKind.Roi,
            Values = RoiGrid.Values(_grid[best].X, _grid[best].Y),
            Score = scores[best],
            Alternatives = ranked.Skip(1).Select(i => new DecisionOption(RoiGrid.Values(_grid[i].X, _grid[i].Y), scores[i])).ToArray(),
            Reason = reason,
            ModelVersion = modelVersion,
            Strategy = Strategy,
        };
    }

    /// <summary>Indices of the best <see cref="LearnerPlannerOptions.AlternativeCount"/> + 1 allowed candidates, best first; equal scores ordered by a seeded hash.</summary>
    private int[] Rank(double[] scores, bool[] allowed)
    {
        var take = Math.Min(_grid.Length, _options.AlternativeCount + 1);
        var best = new List<int>(take + 1);
        foreach (var i in _candidates)
        {
            if (!allowed[i]) continue;
            var position = best.Count;
            while (position > 0 && Better(i, best[position - 1])) position--;
            if (position < take)
            {
                best.Insert(position, i);
                if (best.Count > take) best.RemoveAt(best.Count - 1);
            }
        }
        if (best.Count == 0)
        {
            // Every refined candidate is closed (excluded or over its dose): fall back to the whole grid.
            _candidates.Clear();
            for (var i = 0; i < _grid.Length; i++) _candidates.Add(i);
            return Rank(scores, allowed);
        }
        return best.ToArray();

        bool Better(int a, int b) => scores[a] > scores[b] || (scores[a] == scores[b] && TieBreaker(a) > TieBreaker(b));
    }

    /// <summary>A reproducible pseudo-random number per spot and decision (a SplitMix64 step): breaks ties without a pass over the grid.</summary>
    private ulong TieBreaker(int index)
    {
        var z = unchecked((ulong)_decisionSeed * 0x9E3779B97F4A7C15UL + (ulong)index * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private bool[] AllowedSpots(out int excludedByOperator, out int overDose)
    {
        var exclusions = Volatile.Read(ref _exclusions);
        var allowed = _allowed;
        excludedByOperator = 0;
        overDose = 0;
        for (var i = 0; i < _grid.Length; i++)
        {
            var (x, y) = _grid[i];
            allowed[i] = false;
            if (InAny(exclusions, x, y)) { excludedByOperator++; continue; }
            if (_dose[i] + _options.FrameExposureS > _options.DoseBudgetS) { overDose++; continue; }
            allowed[i] = true;
        }
        if (excludedByOperator + overDose == _grid.Length)
            throw new InvalidOperationException(RoiGrid.Format(
                $"no spot left to measure: {excludedByOperator} of {_grid.Length} grid points are excluded by the operator and {overDose} have used their dose budget of {_options.DoseBudgetS} s"));
        return allowed;
    }

    private static bool InAny(RoiRectangle[] rectangles, double x, double y)
    {
        foreach (var r in rectangles)
            if (r.Contains(x, y)) return true;
        return false;
    }

    private static string Closed(int excludedByOperator, int overDose) =>
        excludedByOperator + overDose == 0 ? "" : RoiGrid.Format($" ({excludedByOperator} spots excluded by the operator, {overDose} over their dose budget)");

    /// <summary>
    /// Brings the per-spot nearest distance and dose up to date. When the caller appends to the same list (the run loop does),
    /// only the new observations are visited; any other list is taken from scratch, so the result never depends on history.
    /// </summary>
    private void Track(IReadOnlyList<Observation> observations)
    {
        var continues = _tracked > 0 && observations.Count >= _tracked
            && ReferenceEquals(observations[0], _firstTracked) && ReferenceEquals(observations[_tracked - 1], _lastTracked);
        if (!continues) ResetTracking();
        var radiusSquared = _options.DoseRadiusMm * _options.DoseRadiusMm;
        var trackDose = double.IsFinite(_options.DoseBudgetS);
        for (var k = _tracked; k < observations.Count; k++)
        {
            var o = observations[k];
            if (!double.IsFinite(o.XMm) || !double.IsFinite(o.YMm)) continue;
            var dose = o.ExposureS is { } e && double.IsFinite(e) && e >= 0 ? e : _options.FrameExposureS;
            var usable = IsUsable(o);
            var usableIndex = _usableTracked;
            if (usable)
            {
                _usableTracked++;
                if (_options.NonlinearityWeight > 0) AddToNonlinearity(o);
                var column = (int)Math.Round((o.XMm - Space.XMinMm) / Space.StepMm);
                var row = (int)Math.Round((o.YMm - Space.YMinMm) / Space.StepMm);
                if (column >= 0 && column < _nx) _columnUse[column]++;
                if (row >= 0 && row < _ny) _rowUse[row]++;
            }
            for (var i = 0; i < _grid.Length; i++)
            {
                var dx = _grid[i].X - o.XMm; var dy = _grid[i].Y - o.YMm;
                var d2 = dx * dx + dy * dy;
                // Every frame costs dose, even one the analyser rejected; only usable ones say something about the map.
                if (trackDose && d2 <= radiusSquared) _dose[i] += dose;
                if (usable && d2 < _nearestSquared[i])
                {
                    _nearestSquared[i] = d2;
                    _nearestObservation[i] = usableIndex;
                }
            }
        }
        _tracked = observations.Count;
        _firstTracked = observations.Count > 0 ? observations[0] : null;
        _lastTracked = observations.Count > 0 ? observations[^1] : null;
    }

    /// <summary>
    /// Adds a usable observation to the nonlinearity on the values the map learns (<see cref="LearnerPlannerOptions.Values"/>): for
    /// a two-phase fraction in shape units, (fraction − soc) / (4·soc·(1 − soc)), so that frames at different states of charge
    /// compare; its noise is scaled the same way.
    /// </summary>
    private void AddToNonlinearity(Observation o)
    {
        var sigma = double.IsFinite(o.PhaseFractionSigma) && o.PhaseFractionSigma > 0 ? o.PhaseFractionSigma : double.NaN;
        _valueScale.Add(o.PhaseFraction, sigma);
        if (double.IsNaN(sigma)) sigma = _options.NoiseSpread * Scale;
        var (value, weight) = _options.Values.Read(o.PhaseFraction, o.StateOfCharge, MinimumShapeWeight);
        _nonlinearity.Add(o.XMm, o.YMm, value, sigma / weight);
    }

    // Below this two-phase weight (a nearly empty or full cell) a frame's shape is mostly its noise: the weight is held here.
    private const double MinimumShapeWeight = 0.05;

    private void ResetTracking()
    {
        Array.Fill(_nearestSquared, double.PositiveInfinity);
        Array.Fill(_nearestObservation, 0);
        _nonlinearity = new LocalNonlinearity(_options.NonlinearityNeighbours);
        _valueScale = new ValueScale();
        Array.Clear(_columnUse);
        Array.Clear(_rowUse);
        Array.Clear(_dose);
        _tracked = 0;
        _usableTracked = 0;
        _firstTracked = null;
        _lastTracked = null;
    }

    private static bool IsUsable(Observation o) =>
        double.IsFinite(o.XMm) && double.IsFinite(o.YMm) && double.IsFinite(o.StateOfCharge) && double.IsFinite(o.PhaseFraction);

    /// <summary>ρ² = exp(−d²/ℓ²) sampled on the grid step, one side, normalised so that the full 2-D kernel's centre weight is 1.</summary>
    private static double[] SquaredCorrelationKernel(double stepMm, double lengthMm, int maximumRadius)
    {
        var radius = Math.Min(maximumRadius, (int)Math.Ceiling(2.5 * lengthMm / stepMm));
        var kernel = new double[radius + 1];
        for (var k = 0; k <= radius; k++)
        {
            var d = k * stepMm / lengthMm;
            kernel[k] = Math.Exp(-d * d);
        }
        return kernel;
    }

    /// <summary>Σ_g ρ²(g, c)·v(g) for every spot c: separable, because exp(−(dx² + dy²)/ℓ²) = exp(−dx²/ℓ²)·exp(−dy²/ℓ²).</summary>
    private double[] Blur(double[] values)
    {
        var radius = _kernel.Length - 1;
        var rows = _rows;
        for (var j = 0; j < _coarseNy; j++)
        {
            var row = j * _coarseNx;
            for (var i = 0; i < _coarseNx; i++)
            {
                var sum = 0.0;
                var from = Math.Max(0, i - radius); var to = Math.Min(_coarseNx - 1, i + radius);
                for (var k = from; k <= to; k++) sum += _kernel[Math.Abs(k - i)] * values[row + k];
                rows[row + i] = sum;
            }
        }
        var result = _removable;
        for (var j = 0; j < _coarseNy; j++)
        {
            var from = Math.Max(0, j - radius); var to = Math.Min(_coarseNy - 1, j + radius);
            for (var i = 0; i < _coarseNx; i++)
            {
                var sum = 0.0;
                for (var k = from; k <= to; k++) sum += _kernel[Math.Abs(k - j)] * rows[k * _coarseNx + i];
                result[j * _coarseNx + i] = sum;
            }
        }
        return result;
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
}

/// <summary>A map's spread over the planner's lattice at one |C-rate|, evaluated before a decision needed it.</summary>
internal sealed record PreparedSpread(IPhaseMap Map, double CRate, ShapeSpreadGrid Grid);
