using Stateless;
using Stateless.Graph;

namespace AutonomousBeamline.Control.StateMachine;

/// <summary>
/// The experiment's states and the only transitions allowed between them. Stateless is not
/// thread-safe: the run loop is the only caller of <see cref="Fire"/>; other threads put requests
/// in the controller's queue and the loop fires them at a safe point.
/// </summary>
public sealed class ExperimentStateMachine
{
    private readonly StateMachine<RunState, RunTrigger> _machine;
    private readonly StateMachine<RunState, RunTrigger>.TriggerWithParameters<string> _fault;

    public ExperimentStateMachine()
    {
        _machine = new StateMachine<RunState, RunTrigger>(RunState.Idle);
        _fault = _machine.SetTriggerParameters<string>(RunTrigger.Fault);

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
            .Permit(RunTrigger.Decided, RunState.Moving)
            .Permit(RunTrigger.AwaitApproval, RunState.AwaitingApproval);

        _machine.Configure(RunState.AwaitingApproval)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.Approved, RunState.Moving)
            .Permit(RunTrigger.Vetoed, RunState.Deciding);

        _machine.Configure(RunState.Moving)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.Arrived, RunState.Acquiring)
            .Permit(RunTrigger.Redecide, RunState.Deciding);

        _machine.Configure(RunState.Acquiring)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.FrameTaken, RunState.Analyzing)
            .Permit(RunTrigger.Redecide, RunState.Deciding);

        _machine.Configure(RunState.Analyzing)
            .SubstateOf(RunState.Running)
            .Permit(RunTrigger.Analyzed, RunState.Deciding)
            .Permit(RunTrigger.Redecide, RunState.Deciding);

        // A resume re-decides from the present state of the cell; it never replays the last command.
        _machine.Configure(RunState.Paused)
            .Permit(RunTrigger.Resume, RunState.Deciding)
            .Permit(RunTrigger.Suspend, RunState.Suspended)
            .Permit(RunTrigger.Fault, RunState.Faulted)
            .Permit(RunTrigger.Finish, RunState.Completing)
            .Permit(RunTrigger.Abort, RunState.Aborted);

        // Beam back (for its settle time): the interrupted frame is taken again where the sample already is.
        // An operator's resume re-decides instead.
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

    public event Action<RunTransition>? Transitioned;

    public bool CanFire(RunTrigger trigger) => _machine.CanFire(trigger);

    public void Fire(RunTrigger trigger)
    {
        if (trigger == RunTrigger.Fault) throw new ArgumentException("use FireFault(reason) so that the reason is kept", nameof(trigger));
        _machine.Fire(trigger);
    }

    public void FireFault(string reason) => _machine.Fire(_fault, reason);

    /// <summary>The graph as Graphviz DOT, exported from the configuration above.</summary>
    public string ToDotGraph() => UmlDotGraph.Format(_machine.GetInfo());

    /// <summary>The graph as a Mermaid state diagram, exported from the configuration above.</summary>
    public string ToMermaidGraph() => MermaidGraph.Format(_machine.GetInfo());
}

public sealed record RunTransition(RunState From, RunState To, RunTrigger Trigger);
