using Stateless;
using Stateless.Graph;

namespace AutonomousBeamline.Control.StateMachine;

/// <summary>What the guards of the machine ask of the run: whether the decision at hand needs a move, and an approval.</summary>
/// <param name="NeedsMove">The next step has a target (false: it measures where the sample is).</param>
/// <param name="NeedsApproval">An approval window is open for the next step's decision.</param>
public sealed record RunGuards(Func<bool> NeedsMove, Func<bool> NeedsApproval)
{
    /// <summary>Every guard open: for exporting the graph.</summary>
    public static RunGuards Open { get; } = new(() => true, () => false);
}

/// <summary>
/// The experiment's states and the only transitions allowed between them. The run engine attaches each state's work
/// as its entry action (<see cref="OnEntry"/>) and fires the trigger that work ends with; guards decide between the
/// ways out of Deciding. Stateless is not thread-safe: the engine's loop is the only caller of <see cref="FireAsync"/>;
/// other threads put requests in the operator inbox, which the loop drains at its safe points.
/// </summary>
public sealed class ExperimentStateMachine
{
    private readonly StateMachine<RunState, RunTrigger> _machine;

    public ExperimentStateMachine(RunGuards? guards = null)
    {
        var g = guards ?? RunGuards.Open;
        _machine = new StateMachine<RunState, RunTrigger>(RunState.Idle);

        _machine.Configure(RunState.Idle)
            .Permit(RunTrigger.Start, RunState.Preflight)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        _machine.Configure(RunState.Preflight)
            .Permit(RunTrigger.PreflightPassed, RunState.Deciding)
            .Permit(RunTrigger.Fault, RunState.Faulted)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        // Running holds what every measuring sub-state shares: it can pause, suspend, fault, finish or abort.
        _machine.Configure(RunState.Running)
            .Permit(RunTrigger.Pause, RunState.Paused)
            .Permit(RunTrigger.Suspend, RunState.Suspended)
            .Permit(RunTrigger.Fault, RunState.Faulted)
            .Permit(RunTrigger.Finish, RunState.Completing)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        _machine.Configure(RunState.Deciding)
            .SubstateOf(RunState.Running)
            .PermitIf(RunTrigger.Decided, RunState.Moving, () => g.NeedsMove() && !g.NeedsApproval(), "a spot to move to, no approval window")
            .PermitIf(RunTrigger.DecidedInPlace, RunState.Acquiring, () => !g.NeedsMove(), "measured where the sample is")
            .PermitIf(RunTrigger.AwaitApproval, RunState.AwaitingApproval, () => g.NeedsMove() && g.NeedsApproval(), "an approval window is open");

        _machine.Configure(RunState.AwaitingApproval)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.Approved, RunState.Moving)
            .Permit(RunTrigger.Vetoed, RunState.Deciding);

        _machine.Configure(RunState.Moving)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.Arrived, RunState.Acquiring)
            .Permit(RunTrigger.Redecide, RunState.Deciding);

        // A frame taken without beam is taken again where the sample is, after the suspenders' levels are checked anew.
        _machine.Configure(RunState.Acquiring)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.FrameTaken, RunState.Analyzing)
            .PermitReentry(RunTrigger.Retake)
            .Permit(RunTrigger.Redecide, RunState.Deciding);

        _machine.Configure(RunState.Analyzing)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.Analyzed, RunState.Deciding);

        // A resume re-decides from the present state of the cell; it never replays the last command.
        _machine.Configure(RunState.Paused)
            .Permit(RunTrigger.Resume, RunState.Deciding)
            .Permit(RunTrigger.Suspend, RunState.Suspended)
            .Permit(RunTrigger.Fault, RunState.Faulted)
            .Permit(RunTrigger.Finish, RunState.Completing)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        // A condition cleared for its settle time (the beam back, say): the interrupted frame is taken again where the
        // sample already is. An operator's resume of a suspension only an operator can clear re-decides instead.
        _machine.Configure(RunState.Suspended)
            .Permit(RunTrigger.ConditionCleared, RunState.Acquiring)
            .Permit(RunTrigger.Resume, RunState.Deciding)
            .Permit(RunTrigger.Fault, RunState.Faulted)
            .Permit(RunTrigger.Finish, RunState.Completing)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        _machine.Configure(RunState.Faulted)
            .Permit(RunTrigger.Recovered, RunState.Deciding)
            .Permit(RunTrigger.Finish, RunState.Completing)
            .Permit(RunTrigger.Abort, RunState.Aborted)
            .Ignore(RunTrigger.Fault);

        _machine.Configure(RunState.Completing)
            .Permit(RunTrigger.Finished, RunState.Completed)
            .Permit(RunTrigger.Fault, RunState.Faulted)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        _machine.Configure(RunState.Completed);
        _machine.Configure(RunState.Aborted).Ignore(RunTrigger.Abort).Ignore(RunTrigger.Fault);

        _machine.OnTransitioned(t => Transitioned?.Invoke(new RunTransition(t.Source, t.Destination, t.Trigger)));
    }

    public RunState State => _machine.State;

    /// <summary>True in Running or any of its sub-states.</summary>
    public bool IsRunning => _machine.IsInState(RunState.Running);

    public bool IsFinal => State is RunState.Completed or RunState.Aborted;

    /// <summary>Raised once the machine is in the new state, before that state's entry action runs.</summary>
    public event Action<RunTransition>? Transitioned;

    public bool CanFire(RunTrigger trigger) => _machine.CanFire(trigger);

    /// <summary>The work of a state: runs each time the state is entered (a re-entry included).</summary>
    public void OnEntry(RunState state, Func<Task> work) => _machine.Configure(state).OnEntryAsync(work, $"the work of {state}");

    /// <summary>Moves to the next state and runs its work; an exception from that work comes out of here.</summary>
    public Task FireAsync(RunTrigger trigger) => _machine.FireAsync(trigger);

    /// <summary>The graph as Graphviz DOT, exported from the configuration above.</summary>
    public string ToDotGraph() => UmlDotGraph.Format(_machine.GetInfo());

    /// <summary>The graph as a Mermaid state diagram, exported from the configuration above.</summary>
    public string ToMermaidGraph() => MermaidGraph.Format(_machine.GetInfo());
}

public sealed record RunTransition(RunState From, RunState To, RunTrigger Trigger);
