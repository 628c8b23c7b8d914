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
    Decided,
    /// <summary>A decision waits for the operator's veto window.</summary>
    AwaitApproval,
    Approved,
    Vetoed,
    Arrived,
    FrameTaken,
    Analyzed,
    /// <summary>The measurement loop skips back to deciding (e.g. a frame that could not be used).</summary>
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
