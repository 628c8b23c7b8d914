using AutonomousBeamline.Control.Journal;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Status;

/// <summary>What an operator's knob command does to the knobs, and the record that lets a resume restore it.</summary>
/// <param name="Record">Null for a one-shot request (a forced spot or energy window), which a resume does not restore.</param>
public sealed record KnobChange(OperatorKnobs Knobs, JournalRecord? Record)
{
    /// <summary>The change <paramref name="command"/> makes, or null when it is not a knob command (pause, veto, ...).</summary>
    public static KnobChange? Of(OperatorCommand command, OperatorKnobs k)
    {
        var by = command.By.ToString();
        switch (command)
        {
            case GotoRoiCommand g:
                return new(k with { ForcedRoi = g }, null);
            case SetEnergyRangeCommand e:
                return new(k with { ForcedEnergies = e }, null);
            case LockKnobCommand l:
                return new(k with { Locks = l.Locked ? k.Locks.Add(l.Knob) : k.Locks.Remove(l.Knob) }, new KnobLockChanged(by, l.Knob, l.Locked));
            case ExcludeRegionCommand x:
                var region = new RoiRectangle(x.XMinMm, x.XMaxMm, x.YMinMm, x.YMaxMm);
                return new(k with { Exclusions = k.Exclusions.Add(region) }, new RegionExcluded(by, x.XMinMm, x.XMaxMm, x.YMinMm, x.YMaxMm));
            case SetBudgetCommand b:
                var budget = new Plan.Budget(b.Frames ?? k.Budget.Frames, b.BeamTimeS ?? k.Budget.BeamTimeS);
                return new(k with { Budget = budget }, new BudgetChanged(by, budget.Frames, budget.BeamTimeS));
            case SetApprovalWindowCommand a:
                return new(k with { ApprovalWindowS = a.Seconds }, new ApprovalWindowChanged(by, a.Seconds));
            default:
                return null;
        }
    }

    /// <summary>Replays a journalled knob record onto <paramref name="k"/> (a resume); other records leave it as it is.</summary>
    public static OperatorKnobs Replay(JournalRecord record, OperatorKnobs k) => record switch
    {
        BudgetChanged b => k with { Budget = new Plan.Budget(b.Frames, b.BeamTimeS) },
        ApprovalWindowChanged a => k with { ApprovalWindowS = a.Seconds },
        KnobLockChanged l => k with { Locks = l.Locked ? k.Locks.Add(l.Knob) : k.Locks.Remove(l.Knob) },
        IExcludesRegion x => k with { Exclusions = k.Exclusions.Add(x.Region) },
        _ => k,
    };
}
