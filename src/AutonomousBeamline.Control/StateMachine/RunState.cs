namespace AutonomousBeamline.Control.StateMachine;

/// <summary>
/// Where the experiment is. Deciding, AwaitingApproval, Moving, Acquiring and Analyzing are sub-states of Running.
/// </summary>
public enum RunState
{
    Idle,
    Preflight,
    Running,
    Deciding,
    AwaitingApproval,
    Moving,
    Acquiring,
    Analyzing,
    /// <summary>An operator's pause: measuring stops at a safe point, the cell stays on its protocol.</summary>
    Paused,
    /// <summary>Beam lost or an interlock (or an operator's suspend): shutter closed, waiting for the condition to clear.</summary>
    Suspended,
    /// <summary>A device failed: the cell is safe; the controller retries with backoff, then resumes or gives up.</summary>
    Faulted,
    Completing,
    Completed,
    Aborted,
}

/// <summary>What can happen to the experiment.</summary>
public enum RunTrigger
{
    Start,
    PreflightPassed,
    /// <summary>A spot was chosen: move there.</summary>
    Decided,
    /// <summary>A measurement where the sample already is (an absorption scan after its spot's pattern): no move.</summary>
    DecidedInPlace,
    /// <summary>A decision waits for the operator's veto window.</summary>
    AwaitApproval,
    Approved,
    Vetoed,
    Arrived,
    FrameTaken,
    /// <summary>The frame did not count (no beam during it): take it again where the sample is.</summary>
    Retake,
    Analyzed,
    /// <summary>A step's error policy gave the step up: decide afresh.</summary>
    Redecide,
    Pause,
    Resume,
    /// <summary>Beam lost, an interlock, or an operator's suspend.</summary>
    Suspend,
    /// <summary>The suspending condition has cleared for its settle time: re-take the interrupted frame.</summary>
    ConditionCleared,
    Fault,
    /// <summary>The faulted device answers again: re-decide from the present state.</summary>
    Recovered,
    Finish,
    Finished,
    Abort,
}

public static class RunStateExtensions
{
    /// <summary>The states a run leaves by: their work (the cell made safe) runs even when the journal cannot record them.</summary>
    public static bool IsWayOut(this RunState state) => state is RunState.Faulted or RunState.Completing or RunState.Completed or RunState.Aborted;
}
