using AutonomousBeamline.Control.Cycling;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Status;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Decisions;

/// <summary>
/// The C-rate of each coming constant-current step, decided on the cycler's own flow at the step boundary (so a change
/// applies only there), from the rates the plan allows and never outside the cell's window (the cycler and the guarded
/// driver check again). Not when the protocol fixes its rates per cycle, nor when an operator holds the C-rate.
/// </summary>
public sealed class CRatePolicy(CRatePlanner planner, Cycler cycler, bool protocolFixesRates, Func<RunStatus> status,
    Func<IReadOnlyList<Observation>> observations, TimeProvider time, Action<Decision> record)
{
    public void OnStepBoundary(StepBoundary boundary)
    {
        if (boundary.Next is not { CRateAdjustable: true } next) return;
        if (protocolFixesRates || status().Knobs.IsLocked(Knob.CRate)) return;
        var decision = planner.NextCRate(observations(), cycler.EstimateStateOfCharge(time.GetUtcNow()), charging: (next.CRate ?? 0) >= 0);
        cycler.RequestCRate(decision.Values["c_rate"], "learner");
        record(decision);
    }
}
