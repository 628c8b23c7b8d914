using AutonomousBeamline.Control.Engine;
using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Control.Steps;
using AutonomousBeamline.Core.Devices;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning;
using AutonomousBeamline.Learning.Acquisition;
using AutonomousBeamline.Learning.Features;

namespace AutonomousBeamline.Control.Decisions;

/// <summary>
/// Turns decisions into measurement steps: asks the planner, lets the arbiter weigh the operator's knobs, records the
/// decision (and any override) and builds the step with its error policy.
/// </summary>
public sealed class StepPlanner(RunPlan plan, IRoiPlanner roiPlanner, EnergyRangePlanner? energyPlanner, RunRecorder recorder)
{
    private readonly HashSet<RoiRectangle> _told = [];
    private EnergyScanPlan? _lastScan;

    /// <summary>The planner preflight made possible (its travel cost needs the axes' speeds); it is told of excluded regions as they come.</summary>
    public static StepPlanner Create(RunPlan plan, RunLearning learning, MotionDescription motion, RunRecorder recorder) =>
        new(plan, learning.CreatePlanner(motion), learning.EnergyPlanner, recorder);

    /// <summary>
    /// Every step gets one attempt (the device clients already resend lost requests and re-acquire bad frames), then the
    /// beamline is recovered; the watchdog bounds an attempt at three times its beam time plus two minutes of travel and
    /// read-out on the run's clock.
    /// </summary>
    public static StepErrorPolicy PolicyFor(double beamSeconds) =>
        new(Attempts: 1, StepErrorAction.Recover, TimeSpan.FromSeconds(3 * beamSeconds + 120));

    /// <summary>The next spot, and the frame to take there.</summary>
    public IMeasurementStep NextSpot(IReadOnlyList<Observation> observations, IReadOnlyList<XasFeatures> scans, RoiContext context)
    {
        // Regions excluded since the last decision (by an operator, a resume, or a spot left for its unusable frames).
        foreach (var region in recorder.Status.Current.Knobs.Exclusions)
            if (_told.Add(region)) roiPlanner.Exclude(region);
        var planned = roiPlanner.NextRoi(observations, context);
        var here = new SpotMm(context.CurrentXMm, context.CurrentYMm);
        var arbitrated = DecisionArbiter.Roi(planned, recorder.Status.Current.Knobs, here, plan.Roi);
        var decision = Settle(arbitrated);
        var target = new SpotMm(decision.Values["x_mm"], decision.Values["y_mm"]);
        if (plan.Acquisition.TakesXrd)
            return new XrdStep(decision, target, plan.Acquisition.ExposureS, PolicyFor(plan.Acquisition.ExposureS));
        // An absorption-only run scans at every spot it chooses.
        return Scan(scans, target, decision.Strategy);
    }

    /// <summary>An absorption scan where the sample is now (after the spot's pattern).</summary>
    public IMeasurementStep ScanHere(IReadOnlyList<XasFeatures> scans, DecisionSource spotChosenBy) => Scan(scans, null, spotChosenBy);

    private XasStep Scan(IReadOnlyList<XasFeatures> scans, SpotMm? target, DecisionSource spotChosenBy)
    {
        var planner = energyPlanner ?? throw new InvalidOperationException("this run takes XAS scans but was given no energy planner");
        var arbitrated = DecisionArbiter.Energies(planner.NextScan(scans), recorder.Status.Current.Knobs, _lastScan);
        _lastScan = arbitrated.Choice;
        Settle(new Arbitrated<Decision>(arbitrated.Choice.Decision, arbitrated.Override, arbitrated.Knobs));
        var dwell = plan.Acquisition.DwellS;
        return new XasStep(arbitrated.Choice.Decision, arbitrated.Choice.EnergiesEv, dwell, target, spotChosenBy, PolicyFor(dwell * arbitrated.Choice.EnergiesEv.Count));
    }

    /// <summary>The knobs as the decision left them (a forced value is used up), the override if one won, the decision.</summary>
    private Decision Settle(Arbitrated<Decision> arbitrated)
    {
        recorder.Status.Update(s => s with { Knobs = s.Knobs with { ForcedRoi = arbitrated.Knobs.ForcedRoi, ForcedEnergies = arbitrated.Knobs.ForcedEnergies } });
        if (arbitrated.Override is { } taken) recorder.Write(taken);
        recorder.Decision(arbitrated.Choice);
        return arbitrated.Choice;
    }
}
