using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Control.Status;

namespace AutonomousBeamline.Control.Operator;

/// <summary>
/// Checks an operator's command against the safety window, the plan and the run as it stands, on the caller's thread,
/// before anything is queued: a command outside what the run allows is refused with the reason, and never reaches the
/// loop. Pure: the same command against the same status gets the same answer.
/// </summary>
public static class CommandValidator
{
    /// <summary>The most points an operator's energy window may have.</summary>
    public const int MaxScanPoints = 5000;

    public static CommandOutcome Validate(OperatorCommand command, RunPlan plan, RunStatus status)
    {
        var state = status.State;
        if (state is RunState.Completed or RunState.Aborted or RunState.Completing)
            return CommandOutcome.Refused($"the run is {state}; it takes no more commands");
        var roi = plan.Roi;
        var knobs = status.Knobs;
        switch (command)
        {
            case PauseCommand:
                return state == RunState.Paused
                    ? CommandOutcome.Refused("already paused")
                    : CommandOutcome.Applied("pausing at the next safe point (between frames); the cell stays on its protocol");
            case ResumeCommand:
                return state is RunState.Paused or RunState.Suspended
                    ? CommandOutcome.Applied("resuming; the next spot is decided from the present state")
                    : CommandOutcome.Refused($"nothing to resume: the run is {state}");
            case SuspendCommand:
                return CommandOutcome.Applied("suspending at the next safe point: shutter closed, the cell held at open circuit, until resume");
            case SkipToEndCommand:
                return CommandOutcome.Applied("skipping to the end: measuring stops, the end-of-run cleanup runs");
            case HaltCommand:
                return CommandOutcome.Applied("halting: output off and shutter closed now, then abort");
            case GotoRoiCommand g:
                if (!double.IsFinite(g.XMm) || !double.IsFinite(g.YMm) || !roi.Contains(g.XMm, g.YMm))
                    return CommandOutcome.Refused(FormattableString.Invariant($"({g.XMm}, {g.YMm}) mm is outside the ROI {roi}"));
                if (knobs.ExclusionAt(g.XMm, g.YMm) is { } region)
                    return CommandOutcome.Refused(FormattableString.Invariant($"({g.XMm}, {g.YMm}) mm lies in excluded region {Decisions.DecisionArbiter.Describe(region)}"));
                return CommandOutcome.Applied(FormattableString.Invariant($"the next frame will be taken at ({g.XMm}, {g.YMm}) mm"));
            case SetCRateCommand c:
                if (!double.IsFinite(c.CRate) || c.CRate <= 0 || c.CRate > plan.Cell.MaxCRate)
                    return CommandOutcome.Refused(FormattableString.Invariant($"C-rate {c.CRate} is outside the safety window (0, {plan.Cell.MaxCRate}]"));
                var current = c.CRate * plan.Cell.NominalCapacityAh;
                if (current > plan.Cell.MaxCurrentA)
                    return CommandOutcome.Refused(FormattableString.Invariant($"C-rate {c.CRate} means {current:0.######} A, above the cell's max_current_a {plan.Cell.MaxCurrentA} A"));
                return CommandOutcome.Applied(FormattableString.Invariant($"C-rate {c.CRate} from the next constant-current step"));
            case SetEnergyRangeCommand r:
                if (plan.Acquisition.EnergyWindow is not { } window || !plan.Acquisition.TakesXas)
                    return CommandOutcome.Refused("this run takes no XAS scans");
                if (!double.IsFinite(r.StartEv) || !double.IsFinite(r.StopEv) || !(r.StartEv < r.StopEv))
                    return CommandOutcome.Refused(FormattableString.Invariant($"an energy range needs start < stop, got {r.StartEv}-{r.StopEv} eV"));
                if (r.StartEv < window.StartEv || r.StopEv > window.StopEv)
                    return CommandOutcome.Refused(FormattableString.Invariant($"{r.StartEv}-{r.StopEv} eV leaves the configured window '{window.Name}' ({window.StartEv}-{window.StopEv} eV)"));
                if (!(r.StepEv >= 0.05) || (r.StopEv - r.StartEv) / r.StepEv > MaxScanPoints)
                    return CommandOutcome.Refused(FormattableString.Invariant($"a step of {r.StepEv} eV is too fine (at least 0.05 eV and at most {MaxScanPoints} points)"));
                return CommandOutcome.Applied(FormattableString.Invariant($"the next XAS scan will cover {r.StartEv}-{r.StopEv} eV in {r.StepEv} eV steps"));
            case VetoCommand:
                if (status.PendingDecision is null)
                    return CommandOutcome.Refused(knobs.ApprovalWindowS > 0
                        ? "no decision is waiting for approval right now"
                        : "no decision is waiting: the approval window is 0 s (set one with 'approval SECONDS')");
                return CommandOutcome.Applied("the pending decision is vetoed; the planner decides again");
            case LockKnobCommand l:
                return CommandOutcome.Applied($"{l.Knob} {(l.Locked ? "locked at its present value" : "released to the learner")}");
            case ExcludeRegionCommand e:
                if (!(e.XMinMm < e.XMaxMm) || !(e.YMinMm < e.YMaxMm))
                    return CommandOutcome.Refused(FormattableString.Invariant($"an excluded region needs xmin < xmax and ymin < ymax, got x [{e.XMinMm}, {e.XMaxMm}], y [{e.YMinMm}, {e.YMaxMm}]"));
                if (e.XMaxMm < roi.XMinMm || e.XMinMm > roi.XMaxMm || e.YMaxMm < roi.YMinMm || e.YMinMm > roi.YMaxMm)
                    return CommandOutcome.Refused("the region does not overlap the ROI");
                return CommandOutcome.Applied(FormattableString.Invariant($"no more frames in x [{e.XMinMm}, {e.XMaxMm}], y [{e.YMinMm}, {e.YMaxMm}] mm"));
            case SetBudgetCommand b:
                if (b.Frames is null && b.BeamTimeS is null) return CommandOutcome.Refused("give a frame count or a beam time");
                var used = status.Counts;
                if (b.Frames is { } f && f < used.FramesAcquired)
                    return CommandOutcome.Refused($"{f} frames is below the {used.FramesAcquired} already taken");
                if (b.BeamTimeS is { } t && (!double.IsFinite(t) || t < used.BeamTimeUsedS))
                    return CommandOutcome.Refused(FormattableString.Invariant($"{t} s of beam is below the {used.BeamTimeUsedS:0} s already used"));
                return CommandOutcome.Applied(FormattableString.Invariant($"budget now {b.Frames ?? knobs.Budget.Frames} frames, {b.BeamTimeS ?? knobs.Budget.BeamTimeS} s of beam"));
            case SetApprovalWindowCommand a:
                if (!double.IsFinite(a.Seconds) || a.Seconds < 0 || a.Seconds > 3600)
                    return CommandOutcome.Refused(FormattableString.Invariant($"the approval window must be 0 to 3600 s, got {a.Seconds}"));
                return CommandOutcome.Applied(a.Seconds == 0 ? "decisions run at once (unattended)" : FormattableString.Invariant($"each decision now waits {a.Seconds} s for a veto"));
            default:
                return CommandOutcome.Refused($"unknown command {command.GetType().Name}");
        }
    }
}
