using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Running;

/// <summary>
/// The two decisions besides the ROI: the C-rate of each coming constant-current step (taken on the cycler's
/// step boundary, so it applies only there) and the energies of each XAS scan. Operators override both through
/// <see cref="IExperimentOperations"/>; a locked knob keeps the learner's hands off.
/// </summary>
public sealed partial class ExperimentController
{
    private readonly List<XasFeatures> _xasScans = new();
    private int _spotsMeasured;
    private EnergyScanPlan? _lastEnergyPlan;
    private (SetEnergyRangeCommand Command, DateTimeOffset At)? _forcedEnergies;

    private bool TakesXrd => _config.Acquisition.Kind.Contains("xrd");
    private bool TakesXas => _config.Acquisition.Kind.Contains("xas");

    private XasEdgeAnalyzer XasAnalyzer => _learning.XasAnalyzer
        ?? throw new InvalidOperationException("this run takes XAS scans but was given no XAS analyzer");

    /// <summary>A usable observation joins the data and the trainer; progress says what it was.</summary>
    private void Learn(Observation? observation, string why)
    {
        if (observation is null) return;
        lock (_gate) _observations.Add(observation);
        _learning.ObservationAdded(observation);
        var what = observation.Kind == FrameKind.Xas
            ? $"XAS E0 {observation.EdgeEnergyEv:0.00} eV, Fe3+ {observation.PhaseFraction:0.000} ± {observation.PhaseFractionSigma:0.0000}"
            : $"FePO4 {observation.PhaseFraction:0.000} ± {observation.PhaseFractionSigma:0.0000}";
        Report($"frame {_counters.FramesAcquired}/{FramesBudget} at ({observation.XMm:0.0}, {observation.YMm:0.0}) mm, " +
               $"SOC {observation.StateOfCharge:0.000}, {what}; {why}");
    }

    /// <summary>
    /// On the cycler's thread, before a step is configured: the learner picks the coming constant-current step's
    /// C-rate from the allowed set (never outside the cell's window: the cycler and the guarded driver check again).
    /// Not when the protocol fixes its rates per cycle, nor when an operator holds the C-rate.
    /// </summary>
    private void OnStepBoundary(StepBoundary boundary)
    {
        if (boundary.Next is not { CRateAdjustable: true } next || _learning.CRatePlanner is not { } planner) return;
        if (_config.Protocol.CRateByCycle is { Count: > 0 } || IsLocked(Knob.CRate)) return;
        var decision = planner.NextCRate(ObservationsSnapshot(), _cycler.EstimateStateOfCharge(_time.GetUtcNow()), charging: (next.CRate ?? 0) >= 0);
        _cycler.RequestCRate(decision.Values["c_rate"], "learner");
        RecordDecision(decision);
    }

    /// <summary>The next scan's energies: an operator's window if one is queued, the last plan while the knob is held, else the planner's.</summary>
    private EnergyScanPlan DecideEnergies()
    {
        var planner = _learning.EnergyPlanner ?? throw new InvalidOperationException("this run takes XAS scans but was given no energy planner");
        List<XasFeatures> scans;
        lock (_gate) scans = _xasScans.ToList();
        EnergyScanPlan plan;
        if (TakeForcedEnergies() is { } forced)
        {
            var c = forced.Command;
            var planned = planner.NextScan(scans);
            var energies = new List<double>();
            for (var e = c.StartEv; e <= c.StopEv + 1e-9; e += c.StepEv) energies.Add(Math.Round(e, 6));
            plan = new EnergyScanPlan(new Decision
            {
                Kind = DecisionKind.EnergyRange,
                Values = new Dictionary<string, double> { ["start_ev"] = c.StartEv, ["stop_ev"] = c.StopEv, ["points"] = energies.Count, ["full_range"] = 0 },
                Score = double.NaN,
                Alternatives = [new DecisionOption(planned.Decision.Values, planned.Decision.Score)],
                Reason = $"operator {c.By} set {c.StartEv}-{c.StopEv} eV in {c.StepEv} eV steps",
                ModelVersion = planned.Decision.ModelVersion,
                Strategy = DecisionSource.Operator,
            }, energies, false);
            _journal.Write("override", new { by = c.By.ToString(), what = "energy_range", start_ev = c.StartEv, stop_ev = c.StopEv, step_ev = c.StepEv, replaced = planned.Decision });
        }
        else if (IsLocked(Knob.EnergyRange) && _lastEnergyPlan is { } held)
        {
            plan = held with { Decision = held.Decision with { Reason = "energy range held by the operator", Strategy = DecisionSource.Operator } };
        }
        else
        {
            plan = planner.NextScan(scans);
        }
        _lastEnergyPlan = plan;
        RecordDecision(plan.Decision);
        return plan;
    }

    private Task<Frame?> AcquireXasAsync(EnergyScanPlan plan, CancellationToken ct)
    {
        var dwell = _config.Acquisition.DwellS;
        var request = new XasScanRequest(plan.EnergiesEv, null, dwell);
        return AcquireWithBeamAsync(c => _devices.Detector.AcquireXasAsync(request, c), dwell * plan.EnergiesEv.Count, ct);
    }

    /// <summary>The configured window the XAS scans use.</summary>
    internal Configuration.EnergyWindowConfig EnergyWindowConfig =>
        _config.Search.EnergyWindows.FirstOrDefault(w => w.Name == _config.Acquisition.EnergyWindow) ?? _config.Search.EnergyWindows[0];

    private (SetEnergyRangeCommand Command, DateTimeOffset At)? TakeForcedEnergies()
    {
        lock (_gate)
        {
            var forced = _forcedEnergies;
            _forcedEnergies = null;
            return forced;
        }
    }

    private bool IsLocked(Knob knob)
    {
        lock (_gate) return _locks.Contains(knob);
    }
}
