using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Learning.Acquisition;

/// <summary>One configured XAS energy window (<c>search.energy_windows</c>): the full grid a calibration scan covers.</summary>
public sealed record EnergyWindow(string Name, double StartEv, double StopEv, double StepEv)
{
    /// <summary>Every energy of the full grid, start to stop inclusive.</summary>
    public IReadOnlyList<double> FullGrid()
    {
        var n = (int)Math.Floor((StopEv - StartEv) / StepEv + 1e-9) + 1;
        return Enumerable.Range(0, n).Select(i => StartEv + i * StepEv).ToArray();
    }

    internal void Validate()
    {
        if (!double.IsFinite(StartEv) || !double.IsFinite(StopEv) || !(StopEv > StartEv))
            throw new ArgumentException($"energy window '{Name}' must have finite start < stop, got {StartEv}..{StopEv} eV");
        if (!(StepEv > 0) || !double.IsFinite(StepEv) || StepEv > StopEv - StartEv)
            throw new ArgumentException($"energy window '{Name}' step must be positive and fit in the window, got {StepEv} eV");
    }
}

/// <summary>An XAS scan to take: the decision as journalled and the energies to visit, ascending, all on the window's grid.</summary>
public sealed record EnergyScanPlan(Decision Decision, IReadOnlyList<double> EnergiesEv, bool FullRange);

/// <summary>Settings of <see cref="EnergyRangePlanner"/>. Offsets are from the predicted edge E0.</summary>
/// <param name="FullRangeEvery">Every this many scans (and the first) covers the whole window, to stay calibrated: the analyser takes
/// E0 from the data's own derivative there, independent of the references the sparse scans are fitted with.</param>
/// <param name="EdgeHalfWidthEv">The edge is sampled at the full grid step within ± this of the predicted E0. The analyser fits a sparse
/// scan with the two references, which needs contrast between them rather than a resolved edge, so by default this is just E0 itself.</param>
/// <param name="WhiteLineHalfWidthEv">The white line is sampled within ± this of its last position...</param>
/// <param name="WhiteLineStepEv">...at this step.</param>
/// <param name="ShoulderStepEv">Between the dense regions and the normalisation lines the spectrum is smooth; this step suffices.</param>
/// <param name="PreEdgeEndEv">The pre-edge line lies below E0 + this (negative): the analyser fits its normalisation there.</param>
/// <param name="PostEdgeStartEv">The post-edge line lies above E0 + this.</param>
/// <param name="LineStepEv">Step on the pre- and post-edge lines: a straight line needs few points.</param>
/// <param name="MaximumTrendEv">Caps the per-scan drift extrapolated from the last two edges, so one noisy edge cannot throw the window off.</param>
/// <param name="NeighbourhoodHalfWidthEv">Within ± this of the predicted edge the scan keeps <paramref name="NeighbourhoodStepEv"/> steps.
/// ±5 eV spans both reference edges (3 eV apart) from wherever the edge was last seen, which is where the references differ most,
/// so the fitted fraction (and the E0 that follows from it) is right on either side of a hop.</param>
/// <param name="NeighbourhoodStepEv">Step in that neighbourhood: 2.5 eV, one point per edge width; finer steps cost points without
/// improving the fit (docs/benchmarks.md, part b).</param>
/// <param name="JumpThresholdEv">A step between the last two edges larger than this is a hop between the references, not a drift,
/// and is not extrapolated.</param>
public sealed record EnergyPlannerOptions(
    int FullRangeEvery = 20,
    double EdgeHalfWidthEv = 0.1,
    double WhiteLineHalfWidthEv = 3.0,
    double WhiteLineStepEv = 3.0,
    double ShoulderStepEv = 30.0,
    double PreEdgeEndEv = -16,
    double PostEdgeStartEv = 36,
    double LineStepEv = 6.0,
    double MaximumTrendEv = 0.5,
    double NeighbourhoodHalfWidthEv = 5.0,
    double NeighbourhoodStepEv = 2.5,
    double JumpThresholdEv = 1.5)
{
    public static EnergyPlannerOptions Default { get; } = new();

    internal void Validate()
    {
        if (FullRangeEvery < 1) throw new ArgumentOutOfRangeException(nameof(FullRangeEvery), FullRangeEvery, "must be >= 1");
        foreach (var (name, value) in new[] { (nameof(EdgeHalfWidthEv), EdgeHalfWidthEv), (nameof(JumpThresholdEv), JumpThresholdEv), (nameof(NeighbourhoodHalfWidthEv), NeighbourhoodHalfWidthEv), (nameof(NeighbourhoodStepEv), NeighbourhoodStepEv), (nameof(WhiteLineHalfWidthEv), WhiteLineHalfWidthEv),
                     (nameof(WhiteLineStepEv), WhiteLineStepEv), (nameof(ShoulderStepEv), ShoulderStepEv), (nameof(LineStepEv), LineStepEv) })
            if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, "must be positive");
        if (!(PreEdgeEndEv < 0)) throw new ArgumentOutOfRangeException(nameof(PreEdgeEndEv), PreEdgeEndEv, "must be negative (below the edge)");
        if (!(PostEdgeStartEv > 0)) throw new ArgumentOutOfRangeException(nameof(PostEdgeStartEv), PostEdgeStartEv, "must be positive (above the edge)");
        if (!(MaximumTrendEv >= 0)) throw new ArgumentOutOfRangeException(nameof(MaximumTrendEv), MaximumTrendEv, "must be >= 0");
    }
}

/// <summary>
/// Chooses the window and point density of the next XAS scan: points where the Fe2+ and Fe3+ spectra differ (around the edge, whose
/// position E0 is predicted from the last scans, and the white line), three or four on each of the straight pre- and post-edge lines
/// that carry the background and the edge step, and the whole window at the full step for the first scan, every
/// <see cref="EnergyPlannerOptions.FullRangeEvery"/>-th scan and whenever the last scan lost the edge. Pure.
/// </summary>
public sealed class EnergyRangePlanner
{
    private readonly EnergyWindow _window;
    private readonly EnergyPlannerOptions _options;
    private readonly double[] _fullGrid;

    /// <param name="window">The configured window; its grid is the full-range scan and every energy a targeted scan may use.</param>
    /// <param name="options">Densities and the calibration period; <see cref="EnergyPlannerOptions.Default"/> when null.</param>
    public EnergyRangePlanner(EnergyWindow window, EnergyPlannerOptions? options = null)
    {
        _window = window ?? throw new ArgumentNullException(nameof(window));
        _window.Validate();
        _options = options ?? EnergyPlannerOptions.Default;
        _options.Validate();
        _fullGrid = _window.FullGrid().ToArray();
    }

    public EnergyWindow Window => _window;

    /// <summary>Plans the next scan.</summary>
    /// <param name="previousScans">The analysis of every scan taken so far, oldest first (flagged ones included: a lost edge forces a full scan).</param>
    public EnergyScanPlan NextScan(IReadOnlyList<XasFeatures> previousScans)
    {
        ArgumentNullException.ThrowIfNull(previousScans);
        var scanNumber = previousScans.Count + 1;
        var dueIn = _options.FullRangeEvery - previousScans.Count % _options.FullRangeEvery;
        var usable = previousScans.Where(f => f.Usable && double.IsFinite(f.EdgeEnergyEv)).ToArray();
        var lastLost = previousScans.Count > 0 && !previousScans[^1].Usable;

        string? fullReason = previousScans.Count == 0 ? "first scan"
            : previousScans.Count % _options.FullRangeEvery == 0 ? RoiGrid.Format($"calibration scan (every {_options.FullRangeEvery})")
            : lastLost ? RoiGrid.Format($"the last scan was flagged '{previousScans[^1].Flag}'")
            : usable.Length == 0 ? "no edge found yet"
            : CorrectionNotTrusted(previousScans[^1]) is { } untrusted ? untrusted : null;

        var edge = usable.Length == 0 ? double.NaN : PredictEdge(usable, out _);
        var targeted = double.IsNaN(edge) ? null : Targeted(edge, usable[^1]);
        if (targeted is not null && !Covers(targeted, edge)) targeted = null;
        fullReason ??= targeted is null ? RoiGrid.Format($"predicted edge {edge:F1} eV leaves no room for the normalisation lines inside the window") : null;

        var full = fullReason is not null;
        var energies = full ? _fullGrid : targeted!;
        var fullValues = Values(_fullGrid, true, edge);
        var targetedValues = targeted is null ? null : Values(targeted, false, edge);
        // Score: the fraction of the full scan's beam time a plan saves; a due calibration is worth the whole scan.
        var targetedScore = targeted is null ? 0 : 1 - (double)targeted.Length / _fullGrid.Length;
        var fullScore = full ? 1.0 : 0.0;
        var alternatives = new List<DecisionOption>();
        if (full && targetedValues is not null) alternatives.Add(new DecisionOption(targetedValues, targetedScore));
        if (!full) alternatives.Add(new DecisionOption(fullValues, fullScore));
        if (full && targetedValues is null)
        {
            // Without an edge to aim at, the only other choice is the whole window at half the density: cheaper, but a coarser calibration.
            var coarse = _fullGrid.Where((_, i) => i % 2 == 0).ToArray();
            alternatives.Add(new DecisionOption(Values(coarse, true, edge), 1 - (double)coarse.Length / _fullGrid.Length));
        }

        var reason = full
            ? RoiGrid.Format($"full range {_window.StartEv:F1}-{_window.StopEv:F1} eV in {_fullGrid.Length} points ({fullReason}), scan {scanNumber}")
            : RoiGrid.Format($"targeted scan {scanNumber}: {targeted!.Length} of {_fullGrid.Length} points, {_options.NeighbourhoodStepEv:0.###} eV steps within ±{_options.NeighbourhoodHalfWidthEv:0.#} eV of the predicted edge {edge:F2} eV and around the white line {usable[^1].WhiteLineEnergyEv:F1} eV; full range again in {dueIn} scan(s)");
        var decision = new Decision
        {
            Kind = DecisionKind.EnergyRange,
            Values = full ? fullValues : targetedValues!,
            Score = full ? fullScore : targetedScore,
            Alternatives = alternatives,
            Reason = reason,
            ModelVersion = previousScans.Count,
            Strategy = DecisionSource.Learner,
        };
        return new EnergyScanPlan(decision, energies, full);
    }

    /// <summary>
    /// A targeted scan's E0 comes from the references (the mixture the sparse points fit), corrected for their energy scale by the
    /// offsets the scan fits itself with what the dense scans measured as the prior (<see cref="EdgeCorrection"/>). The correction cannot be trusted when no dense scan has
    /// measured the edge the last targeted scan's fraction sits on (its σ is still the prior's: the first time the charge crosses
    /// the edge hop); the next scan is then dense, which measures it, and the reason says so. Not while that fraction ± 2σ straddles
    /// the hop: a dense scan there is left out of the correction, so it would buy nothing. A measured correction whose σ is merely
    /// large (noisy dense scans) does not make scans dense: another dense scan would be as noisy.
    /// </summary>
    private static string? CorrectionNotTrusted(XasFeatures last)
    {
        if (!last.Usable || !last.Sparse || last.EdgeCorrection is not { Unmeasured: true, AtTheHop: false } c) return null;
        return RoiGrid.Format($"the last targeted scan's E0 correction for the references' energy scale is not measured on its edge yet ({c.Note}): a dense scan measures it");
    }

    /// <summary>The next E0: the last one plus the last per-scan drift (capped), since the edge follows the state of charge smoothly.</summary>
    private double PredictEdge(XasFeatures[] usable, out double trend)
    {
        var last = usable[^1].EdgeEnergyEv;
        var step = usable.Length >= 2 ? last - usable[^2].EdgeEnergyEv : 0;
        trend = Math.Abs(step) <= _options.JumpThresholdEv ? Math.Clamp(step, -_options.MaximumTrendEv, _options.MaximumTrendEv) : 0;
        return last + trend;
    }

    private double[] Targeted(double edge, XasFeatures last)
    {
        var points = new SortedSet<double>();
        var whiteLine = double.IsFinite(last.WhiteLineEnergyEv) ? last.WhiteLineEnergyEv + (edge - last.EdgeEnergyEv) : edge + 5;
        var preEnd = edge + _options.PreEdgeEndEv;
        var postStart = edge + _options.PostEdgeStartEv;
        // Pre-edge line down from its end, post-edge line up from its start: the analyser needs at least three points on each.
        // Line points are snapped outwards, so snapping to the grid never moves one off its line.
        Add(points, _window.StartEv, preEnd, _options.LineStepEv, fromTop: true, Math.Floor);
        Add(points, postStart, _window.StopEv, _options.LineStepEv, fromTop: false, Math.Ceiling);
        Add(points, preEnd, edge - _options.NeighbourhoodHalfWidthEv, _options.ShoulderStepEv, fromTop: true, Math.Round);
        Add(points, edge - _options.NeighbourhoodHalfWidthEv, edge + _options.NeighbourhoodHalfWidthEv, _options.NeighbourhoodStepEv, fromTop: false, Math.Round);
        Add(points, edge - _options.EdgeHalfWidthEv, edge + _options.EdgeHalfWidthEv, _window.StepEv, fromTop: false, Math.Round);
        Add(points, whiteLine - _options.WhiteLineHalfWidthEv, whiteLine + _options.WhiteLineHalfWidthEv, _options.WhiteLineStepEv, fromTop: false, Math.Round);
        Add(points, whiteLine + _options.WhiteLineHalfWidthEv, postStart, _options.ShoulderStepEv, fromTop: false, Math.Round);
        return points.ToArray();
    }

    /// <summary>Points from <paramref name="from"/> to <paramref name="to"/> at roughly <paramref name="step"/>, snapped to the window's grid and clipped to it.</summary>
    private void Add(SortedSet<double> points, double from, double to, double step, bool fromTop, Func<double, double> rounding)
    {
        if (to < from) return;
        var count = (int)Math.Floor((to - from) / step + 1e-9);
        for (var k = 0; k <= count; k++)
        {
            var e = fromTop ? to - k * step : from + k * step;
            var snapped = Snap(e, rounding);
            if (snapped is { } s) points.Add(s);
        }
    }

    private double? Snap(double energy, Func<double, double> rounding)
    {
        var index = (int)rounding((energy - _window.StartEv) / _window.StepEv);
        if (index < 0 || index >= _fullGrid.Length) return null;
        return _fullGrid[index];
    }

    /// <summary>True when the targeted scan leaves the analyser three points on each normalisation line.</summary>
    private bool Covers(double[] energies, double edge) =>
        energies.Count(e => e <= edge + _options.PreEdgeEndEv) >= 3 && energies.Count(e => e >= edge + _options.PostEdgeStartEv) >= 3;

    private static IReadOnlyDictionary<string, double> Values(IReadOnlyList<double> energies, bool full, double edge)
    {
        var values = new Dictionary<string, double>
        {
            ["start_ev"] = energies.Count > 0 ? energies[0] : double.NaN,
            ["stop_ev"] = energies.Count > 0 ? energies[^1] : double.NaN,
            ["points"] = energies.Count,
            ["full_range"] = full ? 1 : 0,
        };
        if (double.IsFinite(edge)) values["edge_ev"] = edge;
        return values;
    }
}
