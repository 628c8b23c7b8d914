using System.Collections.Immutable;
using AutonomousBeamline.Control.Operator;
using AutonomousBeamline.Control.Plan;
using AutonomousBeamline.Control.StateMachine;
using AutonomousBeamline.Core.Domain;
using AutonomousBeamline.Learning.Acquisition;

namespace AutonomousBeamline.Control.Status;

/// <summary>A point on the electrode, in millimetres.</summary>
public readonly record struct SpotMm(double X, double Y)
{
    public override string ToString() => FormattableString.Invariant($"({X:0.###}, {Y:0.###}) mm");
}

/// <summary>What the run has used and produced so far.</summary>
public sealed record RunCounts
{
    public int FramesAcquired { get; init; }
    public int FramesRejected { get; init; }
    public double BeamTimeUsedS { get; init; }
    public int Observations { get; init; }
    public int Faults { get; init; }
    public int Suspensions { get; init; }
    public ImmutableDictionary<DecisionKind, int> Decisions { get; init; } =
        Enum.GetValues<DecisionKind>().ToImmutableDictionary(k => k, _ => 0);

    public RunCounts WithDecision(DecisionKind kind) => this with { Decisions = Decisions.SetItem(kind, Decisions[kind] + 1) };
}

/// <summary>
/// What operators have set that the planners must respect: the budget, the approval window, held knobs, excluded
/// regions, and a forced spot or energy window waiting for the next decision. A resume restores all but the last two.
/// </summary>
public sealed record OperatorKnobs
{
    public required Budget Budget { get; init; }
    public double ApprovalWindowS { get; init; }
    public ImmutableHashSet<Knob> Locks { get; init; } = [];
    public ImmutableList<RoiRectangle> Exclusions { get; init; } = [];
    /// <summary>An operator's <c>goto</c>, taken by the next ROI decision.</summary>
    public GotoRoiCommand? ForcedRoi { get; init; }
    /// <summary>An operator's <c>energy</c> window, taken by the next absorption scan.</summary>
    public SetEnergyRangeCommand? ForcedEnergies { get; init; }

    public bool IsLocked(Knob knob) => Locks.Contains(knob);

    /// <summary>The excluded region holding (x, y), or null.</summary>
    public RoiRectangle? ExclusionAt(double x, double y) => Exclusions.FirstOrDefault(r => r.Contains(x, y));
}

/// <summary>A decision with the moment it was made.</summary>
public sealed record TimedDecision(DateTimeOffset Time, Decision Decision);

/// <summary>A fault as the operator sees it.</summary>
public sealed record FaultNote(DateTimeOffset Time, string Source, string Message);

/// <summary>
/// The run as it stands, for the dashboard and for command validation. Immutable: writers build a new one and swap it
/// in (<see cref="StatusBoard"/>), so a reader always sees one consistent moment without a lock.
/// </summary>
public sealed record RunStatus
{
    public const int RecentItems = 10;

    public RunState State { get; init; } = RunState.Idle;
    public SpotMm Position { get; init; }
    public double BeamCurrentMa { get; init; }
    public bool ShutterOpen { get; init; }
    public required OperatorKnobs Knobs { get; init; }
    public RunCounts Counts { get; init; } = new();
    /// <summary>Newest first, at most <see cref="RecentItems"/>.</summary>
    public ImmutableList<TimedDecision> RecentDecisions { get; init; } = [];
    /// <summary>The decision waiting in the approval window, if one is open.</summary>
    public TimedDecision? PendingDecision { get; init; }
    /// <summary>Newest first, at most <see cref="RecentItems"/>.</summary>
    public ImmutableList<FaultNote> RecentFaults { get; init; } = [];

    public RunStatus WithDecision(TimedDecision decision) => this with
    {
        Counts = Counts.WithDecision(decision.Decision.Kind),
        RecentDecisions = Recent(RecentDecisions.Insert(0, decision)),
    };

    public RunStatus WithFault(FaultNote fault) => this with
    {
        Counts = Counts with { Faults = Counts.Faults + 1 },
        RecentFaults = Recent(RecentFaults.Insert(0, fault)),
    };

    /// <summary>Why measuring must stop now that the budget is spent, or null.</summary>
    public string? BudgetSpent()
    {
        if (Counts.FramesAcquired >= Knobs.Budget.Frames) return $"the frame budget ({Knobs.Budget.Frames}) is spent";
        if (Counts.BeamTimeUsedS >= Knobs.Budget.BeamTimeS) return FormattableString.Invariant($"the beam-time budget ({Knobs.Budget.BeamTimeS} s) is spent");
        return null;
    }

    private static ImmutableList<T> Recent<T>(ImmutableList<T> items) => items.Count > RecentItems ? items.RemoveRange(RecentItems, items.Count - RecentItems) : items;
}

/// <summary>
/// Holds the current <see cref="RunStatus"/>. The loop and the cycler both update it (the cycler records its C-rate
/// decisions); each update is an atomic compare-and-swap of a new immutable value, so no reader ever needs a lock.
/// </summary>
public sealed class StatusBoard(RunStatus initial)
{
    private RunStatus _current = initial;

    public RunStatus Current => Volatile.Read(ref _current);

    /// <summary>Applies <paramref name="change"/> atomically (it may run more than once under contention: keep it pure).</summary>
    public RunStatus Update(Func<RunStatus, RunStatus> change)
    {
        while (true)
        {
            var before = Volatile.Read(ref _current);
            var after = change(before);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, after, before), before)) return after;
        }
    }
}
